#!/usr/bin/env node
import { App, Tags } from 'aws-cdk-lib';
import { FanorderStack } from '../lib/fanorder-stack';

const app = new App();

// Environment-agnostic on purpose: synthesis needs no AWS credentials and makes no lookups.
// `cdk deploy` takes the account and region from the caller's profile.
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Fanorder';
const stack = new FanorderStack(app, stackName, {
  description: 'fanorder: multi-tenant ordering backend for restaurants on Facebook Messenger',
});
Tags.of(stack).add('project', 'fanorder');
