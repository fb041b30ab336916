// A dense, virtualized table: TanStack Table for the model, TanStack Virtual for
// the rows, so a cursor-paged list of 100,000 rows keeps only ~30 in the DOM.
import { Loader, Text } from '@mantine/core';
import { createColumnHelper, FlexRender, tableFeatures, useTable, type ColumnHelper, type Row, type RowData } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, type KeyboardEvent } from 'react';

export const coreFeatures = tableFeatures({});
export type CoreFeatures = typeof coreFeatures;
export type TableColumns<T extends RowData> = ReturnType<ColumnHelper<CoreFeatures, T>['columns']>;
export const columnHelper = <T extends RowData>(): ColumnHelper<CoreFeatures, T> => createColumnHelper<CoreFeatures, T>();

const ROW_HEIGHT = 36;
// Module-level, so the virtualizer's options stay the same between renders: a new
// function there makes it recompute every row's position, 100,000 of them, per frame.
const rowHeight = () => ROW_HEIGHT;
/** How close to the end of what is loaded the next page is asked for: about two screens ahead. */
const FETCH_AHEAD_ROWS = 40;

export interface VirtualTableProps<T extends RowData> {
  label: string;
  columns: TableColumns<T>;
  data: T[];
  getRowId: (row: T) => string;
  /** CSS grid-template-columns for header and rows. */
  template: string;
  onOpen?: (row: T) => void;
  hasNextPage?: boolean;
  isFetchingNextPage?: boolean;
  fetchNextPage?: () => void;
}

export function VirtualTable<T extends RowData>({ label, columns, data, getRowId, template, onOpen, hasNextPage, isFetchingNextPage, fetchNextPage }: VirtualTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: data.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: rowHeight,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items.length ? items[0]!.index : 0;
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;

  // Only the rows on screen go through the table model: it builds an object per
  // row, which for every loaded row would be 100,000 of them on each new page.
  const visible = useMemo(() => data.slice(firstIndex, lastIndex + 1), [data, firstIndex, lastIndex]);
  const table = useTable({ features: coreFeatures, columns, data: visible, getRowId: (row) => getRowId(row) });
  const rows = table.getRowModel().rows;

  // Callers pass a new function each render; the rows keep one, so a row that
  // stays on screen is not rendered again while the table scrolls.
  const onOpenRef = useRef(onOpen);
  useLayoutEffect(() => {
    onOpenRef.current = onOpen;
  });
  const open = useCallback((row: T) => onOpenRef.current?.(row), []);

  // Fetch the next page when the user scrolls near the end of what is loaded.
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && fetchNextPage && lastIndex >= data.length - FETCH_AHEAD_ROWS) fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, data.length]);

  return (
    <div role="table" aria-label={label} aria-rowcount={hasNextPage ? -1 : data.length + 1} className="vt">
      <div role="rowgroup" className="vt-head">
        {table.getHeaderGroups().map((group) => (
          <div role="row" aria-rowindex={1} key={group.id} className="vt-row" style={{ gridTemplateColumns: template }}>
            {group.headers.map((header) => (
              <div role="columnheader" key={header.id} className="vt-cell">
                {header.isPlaceholder ? null : <table.FlexRender header={header} />}
              </div>
            ))}
          </div>
        ))}
      </div>
      <div role="rowgroup" ref={scrollRef} className="vt-body">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item, k) => {
            const row = rows[k];
            if (!row) return null;
            return (
              <VirtualRow
                key={row.id}
                row={row}
                columns={columns}
                index={item.index}
                start={item.start}
                template={template}
                {...(onOpen ? { onOpen: open } : {})}
              />
            );
          })}
        </div>
        {isFetchingNextPage && (
          <div className="vt-more" role="status">
            <Loader size="xs" />
            <Text size="xs" c="dimmed">
              Loading more…
            </Text>
          </div>
        )}
      </div>
    </div>
  );
}

interface VirtualRowProps<T extends RowData> {
  row: Row<CoreFeatures, T>;
  /** Compared, not read: the row's cells come from these. */
  columns: TableColumns<T>;
  index: number;
  start: number;
  template: string;
  onOpen?: (row: T) => void;
}

function VirtualRowView<T extends RowData>({ row, index, start, template, onOpen }: VirtualRowProps<T>) {
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Enter' && onOpen && e.target === e.currentTarget) onOpen(row.original);
  };
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      className={onOpen ? 'vt-row vt-row-open' : 'vt-row'}
      style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${start}px)` }}
      onDoubleClick={onOpen ? () => onOpen(row.original) : undefined}
      onKeyDown={onOpen ? onKeyDown : undefined}
    >
      {row.getAllCells().map((cell) => (
        <div role="cell" key={cell.id} className="vt-cell">
          <FlexRender cell={cell} />
        </div>
      ))}
    </div>
  );
}

// The table model makes new row objects each frame; the same customer at the same place renders nothing new.
const VirtualRow = memo(
  VirtualRowView,
  (a, b) =>
    a.row.original === b.row.original &&
    a.columns === b.columns &&
    a.index === b.index &&
    a.start === b.start &&
    a.template === b.template &&
    a.onOpen === b.onOpen,
) as typeof VirtualRowView;
