import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import { decodeAnnouncement, encodeAnnouncement } from './client-urls.ts';
import { MemberDirectory } from './member-directory.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('member announcements', () => {
  it('round-trip', () => {
    const announcement = { id: 'n2', clientUrl: 'http://127.0.0.1:2380' };
    assert.deepEqual(decodeAnnouncement(encodeAnnouncement(announcement)), announcement);
  });

  it('anything but an id and an http(s) URL is refused with what to send', () => {
    const refused: [string, Uint8Array][] = [
      ['not JSON', bytes('{id')],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
      ['null', bytes('null')],
      ['no id', bytes('{"clientUrl":"http://h:1"}')],
      ['an empty id', bytes('{"id":"","clientUrl":"http://h:1"}')],
      ['a long id', bytes(JSON.stringify({ id: 'n'.repeat(64), clientUrl: 'http://h:1' }))],
      ['no URL', bytes('{"id":"n1"}')],
      ['a URL that is not one', bytes('{"id":"n1","clientUrl":"127.0.0.1:2379"}')],
      ['another scheme', bytes('{"id":"n1","clientUrl":"file:///etc/passwd"}')],
      ['a long URL', bytes(JSON.stringify({ id: 'n1', clientUrl: `http://h/${'x'.repeat(600)}` }))],
    ];
    for (const [what, payload] of refused) {
      assert.throws(
        () => decodeAnnouncement(payload),
        (error: unknown) => isWeftError(error, 'DECODE_FAILED') && /member announcement/.test(String(error)),
        what,
      );
    }
  });
});

describe('member directory file', () => {
  it('reads the older file (peer addresses alone) and writes both maps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-members-'));
    writeFileSync(join(dir, 'members.json'), JSON.stringify({ n1: '127.0.0.1:4001', n2: '127.0.0.1:4002' }));
    const directory = await MemberDirectory.open(dir, []);
    assert.equal(directory.address('n2'), '127.0.0.1:4002');
    assert.equal(directory.clientUrl('n2'), undefined);
    directory.setClientUrl('n2', 'http://127.0.0.1:2380');
    await directory.flush();
    const reopened = await MemberDirectory.open(dir, []);
    assert.equal(reopened.address('n1'), '127.0.0.1:4001');
    assert.equal(reopened.clientUrl('n2'), 'http://127.0.0.1:2380');
    reopened.remove('n2');
    await reopened.flush();
    const afterRemoval = await MemberDirectory.open(dir, []);
    assert.equal(afterRemoval.address('n2'), undefined);
    assert.equal(afterRemoval.clientUrl('n2'), undefined, 'a removed member takes its client URL along');
  });

  it('flushes called together write one after another, and the file holds the last state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-members-'));
    const directory = await MemberDirectory.open(dir, []);
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 20; i += 1) {
      directory.setClientUrl(`n${i}`, `http://127.0.0.1:${3000 + i}`);
      flushes.push(directory.flush());
    }
    await Promise.all(flushes);
    const saved = JSON.parse(readFileSync(join(dir, 'members.json'), 'utf8')) as { clientUrls: object };
    assert.equal(Object.keys(saved.clientUrls).length, 20);
  });
});
