// Bundled into dist/, so the version is known without reading package.json at run time.
export const productVersion = '0.1.0';
export const productName = 'entra-wp-sync';
