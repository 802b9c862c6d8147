/** The plugin icon (SVG): a container with an up/down arrow, GoCD shows it beside the plugin. */
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
<rect x="6" y="18" width="40" height="32" rx="4" fill="#4b8ab8"/>
<rect x="12" y="24" width="6" height="20" fill="#fff"/><rect x="23" y="24" width="6" height="20" fill="#fff"/><rect x="34" y="24" width="6" height="20" fill="#fff"/>
<path d="M54 10 l8 10 h-5 v14 h-6 v-14 h-5 z" fill="#94399e"/>
<path d="M54 62 l8 -10 h-5 v-12 h-6 v12 h-5 z" fill="#94399e"/>
</svg>`;

/** `get-icon` reply. */
export const ICON = { content_type: 'image/svg+xml', data: Buffer.from(SVG).toString('base64') };
