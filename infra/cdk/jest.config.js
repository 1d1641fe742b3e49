/** Jest runs the CDK assertion tests; @swc/jest strips types (fast), `tsc --noEmit` type-checks. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // The synth test shells out to the CDK CLI; give it room on a 2-core machine.
  testTimeout: 180000,
};
