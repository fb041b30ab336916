// CSV escaping of the audit export: RFC 4180 quoting and the formula guard.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../shared/api';
import { AUDIT_CSV_COLUMNS, auditEventRows, csvCell, csvRow } from '../../src/csv';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1 555 0100', "'+1 555 0100"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tTAB', "'\tTAB"],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['', ''],
    ['Robert\'); DROP TABLE customers;--', "Robert'); DROP TABLE customers;--"],
  ])('%j → %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });

  it('writes numbers, booleans and null as values, not text', () => {
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(1200)).toBe('1200');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
  });

  it('ends rows with CRLF', () => {
    expect(csvRow(['a', 1, null])).toBe('a,1,\r\n');
  });
});

describe('auditEventRows', () => {
  const event: AuditEvent = {
    id: '7',
    occurredAt: '2026-01-02T03:04:05.000Z',
    actorSub: 'alice',
    actorName: 'Alice, "the CRM"',
    actorRoles: ['crm'],
    action: 'customer.update',
    entityType: 'customer',
    entityId: 'ORG-000001',
    changes: [
      { field: 'contactName', before: 'Ann', after: '=cmd|calc' },
      { field: 'userCount', before: 10, after: 12 },
    ],
    reason: 'Customer called',
    requestId: 'req-1',
    clientAddress: '127.0.0.1',
    appVersion: null,
    prevHash: 'aa',
    hash: 'bb',
  };

  it('writes one row per changed field with the event columns repeated', () => {
    const lines = auditEventRows(event).split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `7,2026-01-02T03:04:05.000Z,alice,"Alice, ""the CRM""",crm,customer.update,customer,ORG-000001,contactName,Ann,'=cmd|calc,Customer called,req-1,127.0.0.1,,aa,bb`,
    );
    expect(lines[1]).toContain(',userCount,10,12,');
  });

  it('writes one row for an event without field changes', () => {
    const rows = auditEventRows({ ...event, changes: [] });
    expect(rows.split('\r\n').filter(Boolean)).toHaveLength(1);
    expect(rows.split(',')).toHaveLength(AUDIT_CSV_COLUMNS.length + 1); // the quoted name holds one comma
  });
});
