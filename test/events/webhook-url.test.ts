import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkWebhookUrl } from '../../src/events/webhook-url.ts';

function reasonOf(raw: string, allowPrivate = false): string {
  const result = checkWebhookUrl(raw, allowPrivate);
  assert.equal(result.ok, false, `${raw} was accepted`);
  return result.ok ? '' : result.reason;
}

describe('checkWebhookUrl', () => {
  describe('happy', () => {
    for (const raw of [
      'https://app.example.com/hooks/tokenmeter',
      'http://app.example.com:8080/hooks?team=7',
      'https://93.184.215.14/hook',
      'https://[2606:4700:4700::1111]/hook',
      'http://localhost:4002/', // a hostname: judged when connecting, not here
      'http://internal.corp/hook',
    ]) {
      it(`accepts ${raw}`, () => {
        const result = checkWebhookUrl(raw, false);
        assert.equal(result.ok, true);
        if (result.ok) assert.equal(result.url.href, new URL(raw).href);
      });
    }

    it('returns the parsed, normalized URL', () => {
      const result = checkWebhookUrl('HTTPS://App.Example.COM/Hook', false);
      assert.ok(result.ok);
      assert.equal(result.url.href, 'https://app.example.com/Hook');
    });
  });

  describe('error', () => {
    it('refuses what is not a URL', () => {
      assert.equal(reasonOf('not a url'), 'not a valid URL');
      assert.equal(reasonOf(''), 'not a valid URL');
      assert.equal(reasonOf('http://'), 'not a valid URL');
    });

    for (const raw of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ws://example.com/',
      'gopher://x',
    ]) {
      it(`refuses the scheme of ${raw}`, () => assert.match(reasonOf(raw), /only http and https/));
    }

    it('refuses credentials in the URL', () => {
      assert.match(reasonOf('https://user:secret@example.com/hook'), /credentials/);
      assert.match(reasonOf('https://user@example.com/hook'), /credentials/);
      assert.match(reasonOf('https://:secret@example.com/hook'), /credentials/);
    });

    it('refuses port 0', () => assert.match(reasonOf('http://example.com:0/'), /port 0/));
  });

  describe('security', () => {
    for (const [raw, address] of [
      ['http://127.0.0.1:3000/', '127.0.0.1'],
      ['http://10.0.0.5/hook', '10.0.0.5'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
      ['http://192.168.1.1/', '192.168.1.1'],
      ['http://0.0.0.0:22/', '0.0.0.0'],
      ['http://[::1]:3000/', '::1'],
      ['http://[fd00::1]/', 'fd00::1'],
      ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
      ['http://2130706433/', '127.0.0.1'], // 127.0.0.1 as one number
      ['http://0x7f.1/', '127.0.0.1'],
      ['http://017700000001/', '127.0.0.1'], // octal
    ] as const) {
      it(`refuses the literal private address in ${raw}`, () => {
        assert.equal(reasonOf(raw), `address ${address} is private`);
      });
    }

    it('accepts literal private addresses when private addresses are allowed', () => {
      for (const raw of ['http://127.0.0.1:3000/', 'http://[::1]:3000/', 'http://10.0.0.5/hook']) {
        assert.equal(checkWebhookUrl(raw, true).ok, true, raw);
      }
    });

    it('still refuses credentials and other schemes when private addresses are allowed', () => {
      assert.match(reasonOf('http://u:p@127.0.0.1/', true), /credentials/);
      assert.match(reasonOf('file:///etc/passwd', true), /only http and https/);
    });
  });
});
