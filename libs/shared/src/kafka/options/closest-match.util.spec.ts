import { closestMatch, editDistance } from './closest-match.util';

describe('closestMatch', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('group.di', 'group.id')).toBe(1);
  });

  it('suggests close keys only', () => {
    const keys = ['group.id', 'client.id', 'bootstrap.servers'];
    expect(closestMatch('bootstrap.server', keys)).toBe('bootstrap.servers');
    expect(closestMatch('groupid', keys)).toBe('group.id');
    expect(closestMatch('foo.bar', keys)).toBeUndefined();
  });
});
