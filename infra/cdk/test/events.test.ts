import { Match } from 'aws-cdk-lib/assertions';
import { functionId, idAt, ofType, statementsOf, synth, type Synthesized } from './helpers';

describe('stream processing, events and the schedule', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  test('one event source mapping: the table stream into the stream function', () => {
    const mappings = ofType(s, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const p = mappings[0][1].Properties;
    expect(p.EventSourceArn).toEqual({ 'Fn::GetAtt': [idAt(s, 'Fanorder/Data/Table/Resource'), 'StreamArn'] });
    expect(p.FunctionName).toEqual({ Ref: functionId(s, 'Stream') });
  });

  test('no loss, no poison pill: TRIM_HORIZON, bisect on error, bounded retries, partial batch failures, DLQ', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 1,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idAt(s, 'Fanorder/StreamDlq/Resource'), 'Arn'] } },
      },
    });
  });

  test('filter: only new items whose sk begins with OUTBOX# or INBOX# invoke the function', () => {
    const filters = ofType(s, 'AWS::Lambda::EventSourceMapping')[0][1].Properties.FilterCriteria.Filters;
    const patterns = filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern));
    expect(patterns).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { sk: { S: [{ prefix: 'OUTBOX#' }] } } } },
      { eventName: ['INSERT'], dynamodb: { NewImage: { sk: { S: [{ prefix: 'INBOX#' }] } } } },
    ]);
  });

  test('the mapping is created after the stream function role can read the stream', () => {
    const mapping = ofType(s, 'AWS::Lambda::EventSourceMapping')[0][1];
    expect(mapping.DependsOn).toEqual(expect.arrayContaining([idAt(s, 'Fanorder/Stream/Role/DefaultPolicy/Resource')]));
  });

  test('the DLQ keeps failed batches 14 days, encrypted, TLS only', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the custom bus "fanorder" and an archive of every fanorder event for 30 days', () => {
    s.template.resourceCountIs('AWS::Events::EventBus', 1);
    s.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'fanorder' });
    s.template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [idAt(s, 'Fanorder/EventBus/Resource'), 'Arn'] },
      EventPattern: { source: ['fanorder'] },
      RetentionDays: 30,
    });
    synth({ eventBusName: 'fanorder-staging' }).template.hasResourceProperties('AWS::Events::EventBus', {
      Name: 'fanorder-staging',
    });
  });

  test('a staff topic (TLS only) and a separate operator alarm topic', () => {
    const topics = ofType(s, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(2);
    const staff = idAt(s, 'Fanorder/StaffTopic/Resource');
    const alarms = idAt(s, 'Fanorder/Monitoring/AlarmTopic/Resource');
    expect(staff).not.toBe(alarms);
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: staff }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the late-order schedule: EventBridge Scheduler, every minute, into the schedule function, no retries', () => {
    const schedules = ofType(s, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    const p = schedules[0][1].Properties;
    expect(p.ScheduleExpression).toBe('rate(1 minute)');
    expect(p.State).toBe('ENABLED');
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(p.Target.Arn).toEqual({ 'Fn::GetAtt': [functionId(s, 'Schedule'), 'Arn'] });
    expect(p.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });

    // The scheduler's role may invoke that one function and nothing else.
    const role = p.Target.RoleArn['Fn::GetAtt'][0];
    const statements = statementsOf(s, role);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('lambda:InvokeFunction');
    expect(JSON.stringify(statements[0].Resource)).not.toContain(functionId(s, 'Api'));
    expect(JSON.stringify(statements[0].Resource)).toContain(functionId(s, 'Schedule'));

    // Lambda's own async retries are off too: the next sweep is a minute away.
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId(s, 'Schedule') },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });
});
