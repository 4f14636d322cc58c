// The nix.conf lines are text for a person to read and paste: what they offer depends on this Nix.
import assert from 'node:assert/strict';
import test from 'node:test';
import { substitutionJobsIn, type SubstitutionJobs } from '../../../src/nix/cli';
import { nixConfLines } from '../../../src/services/nix-conf';

const lines = (substitutionJobs: SubstitutionJobs) =>
  nixConfLines({ gatewayUrl: 'http://127.0.0.1:8080/', ipnsName: 'k51x', publicKeys: [], access: { daemon: false, trusted: true }, substitutionJobs });

test('nix-conf offers max-jobs = 16 only to a Nix that substitutes max-jobs paths at a time, fewer than 16', () => {
  const old = lines({ setting: 'max-jobs', value: 1 });
  assert.match(old, /max-jobs paths at a time \(1 now\)/);
  assert.match(old, /\n# max-jobs = 16\n/, 'offered as a comment: on this Nix it also allows 16 builds at once');
  assert.doesNotMatch(old, /^max-jobs/m, 'never set for the user');
  assert.doesNotMatch(lines({ setting: 'max-jobs', value: 32 }), /max-jobs/);
  assert.doesNotMatch(lines({ setting: 'max-substitution-jobs', value: 16 }), /max-jobs/, 'Nix 2.16 and later take 16 by default');
  assert.match(old, /^extra-substituters = http:\/\/127\.0\.0\.1:8080\/ipns\/k51x\/cache$/m);
});

test("the substitution jobs come from Nix's own setting where it has one (2.16 and later), else from max-jobs", () => {
  assert.deepEqual(
    substitutionJobsIn(
      new Map([
        ['max-jobs', '4'],
        ['max-substitution-jobs', '16'],
      ]),
    ),
    { setting: 'max-substitution-jobs', value: 16 },
  );
  assert.deepEqual(substitutionJobsIn(new Map([['max-jobs', '1']])), { setting: 'max-jobs', value: 1 });
});
