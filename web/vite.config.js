// Vite config for the liancun web map.
//
// Production: `npm run build` writes web/dist/ with every asset URL relative (`base: './'`), so the
// Rust server can embed the folder and serve it under /map/ (build.rs embeds web/dist/).
// Development: `npm run dev` serves the page at http://127.0.0.1:5173/map/ (same path as in
// production) and proxies the API (tiles, villages, collections, analysis, plans, auth) to a running
// `liancun serve` (LIANCUN_URL, default http://127.0.0.1:8787). The Host header is kept
// (changeOrigin: false) because the server builds the absolute tile URLs of its TileJSON from it,
// so tiles also go through this proxy.
import { defineConfig } from 'vite';

const target = process.env.LIANCUN_URL || 'http://127.0.0.1:8787';
const proxy = { target, changeOrigin: false };

export default defineConfig(({ command }) => ({
  base: command === 'build' ? './' : '/map/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // maplibre-gl is one ~1 MB chunk by itself, the page ~0.2 MB more; that is expected.
    chunkSizeWarningLimit: 1400,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/tiles': proxy,
      '/villages': proxy,
      '/collections': proxy,
      '/analysis': proxy,
      '/plans': proxy,
      '/auth': proxy,
      '/map/config.json': proxy,
    },
  },
  preview: {
    host: '127.0.0.1',
    port: 4173,
  },
}));
