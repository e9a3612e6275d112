import * as QRCode from 'qrcode';
import { useMemo } from 'react';

/** The blank margin scanners need around the symbol, in modules (the QR specification asks for 4). */
const QUIET_ZONE = 4;

/**
 * A QR code as SVG: one square per dark module. Drawn from the module matrix rather than as an image,
 * because the console's CSP allows no data: or blob: images and no canvas is needed for this.
 */
export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, dark } = useMemo(() => {
    const { modules } = QRCode.create(value, { errorCorrectionLevel: 'M' });
    const cells: { row: number; col: number }[] = [];
    for (let row = 0; row < modules.size; row += 1) {
      for (let col = 0; col < modules.size; col += 1) {
        if (modules.get(row, col)) cells.push({ row, col });
      }
    }
    return { size: modules.size, dark: cells };
  }, [value]);
  const extent = size + 2 * QUIET_ZONE;
  return (
    <svg
      role="img"
      aria-label={label}
      className="qr"
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`${-QUIET_ZONE} ${-QUIET_ZONE} ${extent} ${extent}`}
      shapeRendering="crispEdges"
    >
      {dark.map(({ row, col }) => (
        <rect key={`${row}-${col}`} x={col} y={row} width={1} height={1} />
      ))}
    </svg>
  );
}
