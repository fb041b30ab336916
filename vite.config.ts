// The renderer build: plain browser code from renderer/ into dist/renderer/,
// with relative URLs so the main process can load it from a file or custom protocol.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Print gzip sizes of every chunk.
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
    // No inline <script> or data: modules: the renderer runs under script-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'chrome130',
  },
});
