// A dense, virtualized table: TanStack Table for the model, TanStack Virtual for
// the rows, so a cursor-paged list of 100,000 rows keeps only ~30 in the DOM.
import { Loader, Text } from '@mantine/core';
import { createColumnHelper, tableFeatures, useTable, type ColumnHelper, type RowData } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';

export const coreFeatures = tableFeatures({});
export type CoreFeatures = typeof coreFeatures;
export type TableColumns<T extends RowData> = ReturnType<ColumnHelper<CoreFeatures, T>['columns']>;
export const columnHelper = <T extends RowData>(): ColumnHelper<CoreFeatures, T> => createColumnHelper<CoreFeatures, T>();

const ROW_HEIGHT = 36;

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
  const table = useTable({ features: coreFeatures, columns, data, getRowId: (row) => getRowId(row) });
  const rows = table.getRowModel().rows;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => rows[index]?.id ?? index,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;

  // Fetch the next page when the user scrolls near the end of what is loaded.
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && fetchNextPage && lastIndex >= rows.length - 15) fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, rows.length]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>, row: T) => {
    if (e.key === 'Enter' && onOpen && e.target === e.currentTarget) onOpen(row);
  };

  return (
    <div role="table" aria-label={label} aria-rowcount={hasNextPage ? -1 : rows.length + 1} className="vt">
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
          {items.map((item) => {
            const row = rows[item.index]!;
            return (
              <div
                role="row"
                key={row.id}
                aria-rowindex={item.index + 2}
                className={onOpen ? 'vt-row vt-row-open' : 'vt-row'}
                style={{ gridTemplateColumns: template, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
                onDoubleClick={onOpen ? () => onOpen(row.original) : undefined}
                onKeyDown={onOpen ? (e) => onKeyDown(e, row.original) : undefined}
              >
                {row.getAllCells().map((cell) => (
                  <div role="cell" key={cell.id} className="vt-cell">
                    <table.FlexRender cell={cell} />
                  </div>
                ))}
              </div>
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
