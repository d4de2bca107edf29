// p12-pem stand-in - fails loudly if anything converts a .p12 through it.
// node-tak's library never imports p12-pem (only its cli.js does); kizuna's
// interop tests hand node-tak PEM files, so nothing reaches this.
export function getPemFromP12() {
    throw new Error('p12-pem is not installed: the interop tests use PEM certificates');
}
