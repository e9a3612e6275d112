/**
 * Hands a file made in the page (an audit-log export, recovery codes) to the browser as a download:
 * an object URL on a temporary link. No data: URL, which the console's CSP would not need to allow
 * anyway for a download, but which some browsers cap in length.
 */
export function saveFile(file: Blob, fileName: string): void {
  const url = URL.createObjectURL(file);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
