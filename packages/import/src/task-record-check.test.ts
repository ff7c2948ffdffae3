import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { isTaskId, newTaskRecord } from './task-record.js';
import { checkTaskRecord, taskBlobName } from './task-record-check.js';
import { taskScratchPath } from './task-scratch.js';

const good = () => newTaskRecord('import-image', [{ format: 'raw', path: '/d.raw' }], {});
const check =
  (record: unknown, name = taskBlobName((record as { id: string }).id)) =>
  () =>
    checkTaskRecord(name, JSON.parse(JSON.stringify(record)));

describe('task ids', () => {
  it('accepts the ids vmkit issues, of the right kind', () => {
    for (const kind of ['import-image', 'import-volume', 'import-instance', 'export-image'] as const) {
      const { id } = newTaskRecord(kind, [], {});
      expect(isTaskId(id, kind)).toBe(true);
    }
    expect(isTaskId('import-ami-0123456789abcdef0')).toBe(true);
    expect(isTaskId('import-ami-0123456789abcdef0', 'export-image')).toBe(false);
  });

  it.each([
    '../../victim',
    '../../../../..',
    'import-ami-0123456789abcdef0/../../x',
    'import-ami-0123456789ABCDEF0',
    'import-ami-0123456789abcdef',
    'import-ami-0123456789abcdef01',
    'import-ami-0123456789abcdef0\n',
    '',
  ])('refuses %j', (id) => {
    expect(isTaskId(id)).toBe(false);
    expect(() => taskScratchPath('/var/scratch', id)).toThrow(
      /would name a folder outside \/var\/scratch\/tasks/,
    );
  });

  it('puts the scratch folder of a good id directly inside the tasks folder', () => {
    expect(taskScratchPath('/var/scratch/', 'import-vol-0123456789abcdef0')).toBe(
      '/var/scratch/tasks/import-vol-0123456789abcdef0',
    );
  });
});

describe('checkTaskRecord', () => {
  it('passes a record vmkit wrote', () => {
    const r = { ...good(), hostId: 'h1:0123abcd', bootId: 'b0e1-22', converterPid: 4242, servicePid: 17 };
    expect(check(r)()).toMatchObject({ id: r.id, converterPid: 4242 });
  });

  it('refuses an id that is not vmkit’s, naming the field and the rule', () => {
    expect(check({ ...good(), id: '../../victim' }, 'tasks/x.json')).toThrow(
      /^import record tasks\/x.json: id must be an id vmkit issues: import-ami- and 17 hex digits/,
    );
    const vol = newTaskRecord('import-volume', [], {});
    expect(check({ ...vol, kind: 'import-image' })).toThrow(/id must be an id vmkit issues: import-ami-/);
  });

  it('refuses a record kept under another blob name than its id', () => {
    expect(check(good(), 'tasks/import-ami-00000000000000000.json')).toThrow(/id must match the blob's name/);
  });

  it.each([
    [{ kind: 'rm -rf' }, /kind must be one of/],
    [{ status: 'running' }, /status must be one of/],
    [{ converterPid: -1 }, /converterPid must be a process id/],
    [{ converterPid: 1.5 }, /converterPid must be a process id/],
    [{ servicePid: '42' }, /servicePid must be a process id/],
    [{ hostId: 'a/b' }, /hostId must be 1-128/],
    [{ bootId: '' }, /bootId must be 1-128/],
    [{ disks: 'x' }, /disks must be an array/],
    [{ createdAt: 1 }, /createdAt must be a string/],
  ])('refuses %j', (change, message) => {
    expect(check({ ...good(), ...change })).toThrow(message);
  });

  it('passes the boot checks and image stores vmkit writes', () => {
    for (const validate of [
      { boot: true, until: 'ssh', timeoutMs: 60_000 },
      { boot: true, until: { port: 22 } },
      { boot: true, until: { http: '/', port: 8080 } },
      { boot: true, until: 'console-login' },
    ])
      expect(check({ ...good(), validate, imageStore: 'blob' })()).toMatchObject({ validate });
  });

  it.each([
    [
      { validate: 'yes' },
      'validate',
      /^import record tasks\/import-ami-[0-9a-f]{17}\.json: validate must be an object$/,
    ],
    [{ validate: [true] }, 'validate', /validate must be an object/],
    [{ validate: { boot: false } }, 'validate.boot', /validate\.boot must be true/],
    [{ validate: { boot: true } }, 'validate.until', /validate\.until must be/],
    [
      { validate: { boot: true, timeoutMs: -5 } },
      'validate.timeoutMs',
      /validate\.timeoutMs must be a positive integer/,
    ],
    [{ validate: { boot: true, timeoutMs: 'forever' } }, 'validate.timeoutMs', /validate\.timeoutMs must be/],
    [
      { validate: { boot: true, until: 'rm -rf /' } },
      'validate.until',
      /validate\.until must be 'agent', 'ssh'/,
    ],
    [{ validate: { boot: true, until: { port: 70000 } } }, 'validate.until', /validate\.until must be/],
    [
      { validate: { boot: true, until: { http: 'http://evil/' } } },
      'validate.until',
      /validate\.until must be/,
    ],
    [{ imageStore: 's3://elsewhere' }, 'imageStore', /imageStore must be 'local' or 'blob'/],
  ])('refuses a stored %j, CORRUPT naming the field', (change, field, message) => {
    let error: unknown;
    try {
      check({ ...good(), ...change })();
    } catch (e) {
      error = e;
    }
    expect(VmkitError.is(error, 'CORRUPT')).toBe(true);
    expect((error as VmkitError).details.field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses what is not an object', () => {
    expect(() => checkTaskRecord('tasks/a.json', [1])).toThrow(/record must be an object/);
    expect(() => checkTaskRecord('tasks/a.json', null)).toThrow(/record must be an object/);
  });
});
