import { FUNCTIONS, functionId, idAt, ofType, synth, type Json, type Synthesized } from './helpers';

describe('alarms', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  const alarms = (): Json[] => ofType(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const find = (metric: string, dimension: Json): Json[] =>
    alarms().filter(
      (a) => a.MetricName === metric && JSON.stringify(a.Dimensions ?? []).includes(JSON.stringify(dimension)),
    );

  test.each(FUNCTIONS)('%s: an Errors alarm and a Throttles alarm', (fn) => {
    const dim = { Name: 'FunctionName', Value: { Ref: functionId(s, fn) } };
    for (const metric of ['Errors', 'Throttles']) {
      const hits = find(metric, dim);
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  test('the DLQ alarm fires as soon as one message is visible', () => {
    const hits = find('ApproximateNumberOfMessagesVisible', {
      Name: 'QueueName',
      Value: { 'Fn::GetAtt': [idAt(s, 'Fanorder/StreamDlq/Resource'), 'QueueName'] },
    });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 60,
    });
  });

  test('the stream iterator-age alarm on the stream function', () => {
    const hits = find('IteratorAge', { Name: 'FunctionName', Value: { Ref: functionId(s, 'Stream') } });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ Statistic: 'Maximum', Threshold: 60000, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('the HTTP API 5xx alarm', () => {
    expect(find('5xx', { Name: 'ApiId', Value: { Ref: idAt(s, 'Fanorder/HttpApi/Resource') } })).toHaveLength(1);
  });

  test('every alarm notifies the operator alarm topic (never the staff topic), on alarm and on recovery', () => {
    const alarmTopic = { Ref: idAt(s, 'Fanorder/Monitoring/AlarmTopic/Resource') };
    const all = alarms();
    expect(all).toHaveLength(FUNCTIONS.length * 2 + 3);
    for (const a of all) {
      expect(a.AlarmActions).toEqual([alarmTopic]);
      expect(a.OKActions).toEqual([alarmTopic]);
    }
  });

  test('-c alarmEmail subscribes an operator; without it there is no subscription', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const s2 = synth({ alarmEmail: 'ops@example.com' });
    s2.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: idAt(s2, 'Fanorder/Monitoring/AlarmTopic/Resource') },
    });
    expect(() => synth({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
  });
});
