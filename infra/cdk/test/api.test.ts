import { functionId, idAt, ofType, synth, type Fn, type Json, type Synthesized } from './helpers';

/** route key -> the function its integration invokes. */
function routeTable(s: Synthesized): Record<string, Fn> {
  const fnById = new Map<string, Fn>((['Api', 'Webhook', 'Stream', 'Schedule'] as Fn[]).map((f) => [functionId(s, f), f]));
  const out: Record<string, Fn> = {};
  for (const [, route] of ofType(s, 'AWS::ApiGatewayV2::Route')) {
    const target: Json = route.Properties.Target; // {"Fn::Join": ["", ["integrations/", {Ref}]]}
    const integrationId = target['Fn::Join'][1][1].Ref;
    const uri = s.resources[integrationId].Properties.IntegrationUri;
    out[route.Properties.RouteKey] = fnById.get(uri['Fn::GetAtt'][0])!;
  }
  return out;
}

describe('HTTP API', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  });

  test('one HTTP API with exactly the agreed routes, each to the right function', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    expect(routeTable(s)).toEqual({
      'ANY /v1/{proxy+}': 'Api',
      'GET /healthz': 'Api',
      'GET /readyz': 'Api',
      'GET /': 'Api',
      'GET /dashboard': 'Api',
      'GET /dashboard/{proxy+}': 'Api',
      'GET /webhooks/messenger': 'Webhook',
      'POST /webhooks/messenger': 'Webhook',
      'POST /v1/payments/{provider}/webhook': 'Webhook',
    });
  });

  test('Lambda proxy integrations with payload format 2.0', () => {
    const integrations = ofType(s, 'AWS::ApiGatewayV2::Integration');
    expect(integrations).toHaveLength(2);
    for (const [, i] of integrations) {
      expect(i.Properties.IntegrationType).toBe('AWS_PROXY');
      expect(i.Properties.PayloadFormatVersion).toBe('2.0');
    }
  });

  test('API Gateway may invoke only the api and webhook functions', () => {
    const invoked = new Set(
      ofType(s, 'AWS::Lambda::Permission')
        .filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com')
        .map(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0]),
    );
    expect([...invoked].sort()).toEqual([functionId(s, 'Api'), functionId(s, 'Webhook')].sort());
  });

  test('the $default stage: auto-deploy, throttling defaults, JSON access log with retention', () => {
    const stages = ofType(s, 'AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const p = stages[0][1].Properties;
    expect(p.StageName).toBe('$default');
    expect(p.AutoDeploy).toBe(true);
    expect(p.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
    const logGroup = idAt(s, 'Fanorder/HttpApiAccessLogs/Resource');
    expect(p.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroup, 'Arn'] });
    expect(s.resources[logGroup].Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(p.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', route: '$context.routeKey' });
    // The Messenger handshake sends hub.verify_token in the query string: never log it.
    expect(p.AccessLogSettings.Format).not.toMatch(/querystring|requestOverride|\$context\.path\?/i);
  });

  test('throttling follows -c apiRateLimit / apiBurstLimit', () => {
    const s2 = synth({ apiRateLimit: '50', apiBurstLimit: '100' });
    s2.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  test('outputs: the API URL and the Messenger callback URL for the Facebook app', () => {
    const outputs = s.json.Outputs;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'MessengerWebhookUrl', 'TableName', 'EventBusName', 'StaffTopicArn', 'SecretArn']),
    );
    const joined = JSON.stringify(outputs.MessengerWebhookUrl.Value);
    expect(joined).toContain('webhooks/messenger');
    expect(joined).toContain(idAt(s, 'Fanorder/HttpApi/Resource'));
  });
});
