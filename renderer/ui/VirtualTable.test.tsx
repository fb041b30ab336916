// The customers' table with 100,000 loaded rows: only the window is in the DOM,
// and scrolling renders the rows that come into view, not every row again.
import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { renderApp } from '../test/render';
import { columnHelper, VirtualTable } from './VirtualTable';

interface Item {
  id: string;
  name: string;
}
const ROWS = 100_000;
const data: Item[] = Array.from({ length: ROWS }, (_, i) => ({ id: `ORG-${String(i + 1).padStart(6, '0')}`, name: `Customer ${i + 1}` }));
const helper = columnHelper<Item>();

function setup(onOpen = vi.fn()) {
  let cellRenders = 0;
  let ids = 0;
  const columns = helper.columns([
    helper.accessor('name', {
      header: 'Organization',
      cell: (info) => {
        cellRenders++;
        return <span>{info.getValue()}</span>;
      },
    }),
    helper.accessor('id', { header: 'Org ID', cell: (info) => <span>{info.getValue()}</span> }),
  ]);
  const view = renderApp(<VirtualTable label="Customers" columns={columns} data={data} getRowId={(r) => (ids++, r.id)} template="1fr 1fr" onOpen={onOpen} />);
  const body = document.querySelector<HTMLElement>('.vt-body')!;
  const scrollTo = (top: number) => {
    body.scrollTop = top;
    fireEvent.scroll(body);
  };
  return { view, body, scrollTo, renders: () => cellRenders, rowIds: () => ids, onOpen };
}

const bodyRows = () => within(screen.getByRole('table', { name: 'Customers' })).getAllByRole('row').filter((r) => r.getAttribute('aria-rowindex') !== '1');

describe('VirtualTable', () => {
  it('keeps a bounded number of row nodes for 100,000 rows, and the window follows the scroll', () => {
    const { scrollTo } = setup();
    expect(bodyRows().length).toBeGreaterThan(10);
    expect(bodyRows().length).toBeLessThan(60);
    expect(screen.getByText('Customer 1')).toBeInTheDocument();

    scrollTo(36 * 50_000);
    const rows = bodyRows();
    expect(rows.length).toBeLessThan(60);
    expect(screen.getByText('Customer 50001')).toBeInTheDocument();
    expect(screen.queryByText('Customer 1')).toBeNull();
    // The row's place in the whole result, for assistive technology.
    expect(rows.map((r) => Number(r.getAttribute('aria-rowindex')))).toContain(50_002);
  });

  it('renders only the rows that come into view when it scrolls by a few rows', () => {
    const { scrollTo, renders } = setup();
    scrollTo(36 * 1_000);
    const before = renders();
    scrollTo(36 * 1_003);
    // Three rows came into view; the thirty or so that stayed are not rendered again.
    expect(renders() - before).toBeLessThanOrEqual(6);
    expect(screen.getByText('Customer 1004')).toBeInTheDocument();
  });

  it('builds the table model for the rows on screen only, not for every loaded row', () => {
    const { scrollTo, rowIds } = setup();
    scrollTo(36 * 20_000);
    scrollTo(36 * 20_010);
    // A handful of renders of a window of about 40 rows; the whole model would be 100,000 a render.
    expect(rowIds()).toBeLessThan(1_000);
  });

  it('opens a row with Enter or a double click', () => {
    const { onOpen } = setup();
    const row = bodyRows()[2]!;
    fireEvent.keyDown(row, { key: 'Enter' });
    fireEvent.doubleClick(row);
    expect(onOpen).toHaveBeenCalledTimes(2);
    expect(onOpen).toHaveBeenLastCalledWith(data[2]);
  });
});
