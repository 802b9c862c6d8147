import { describe, expect, it } from 'vitest';
import { ecsConsoleLink, jobLink } from '../../src/gocd/status-report.view.js';

describe('status report links', () => {
  it('links a job to its GoCD job details page', () => {
    expect(jobLink('https://gocd.example.com/go/', 'app one/7/test/1/build')).toBe(
      'https://gocd.example.com/go/tab/build/detail/app%20one/7/test/1/build',
    );
  });

  it('links an ECS task ARN to the console, and nothing else', () => {
    expect(ecsConsoleLink('arn:aws:ecs:eu-west-1:123456789012:task/ci-agents/0f1e2d3c4b5a')).toBe(
      'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/ci-agents/tasks/0f1e2d3c4b5a',
    );
    expect(ecsConsoleLink('4f1d2a9c1b7e')).toBeUndefined();
  });
});
