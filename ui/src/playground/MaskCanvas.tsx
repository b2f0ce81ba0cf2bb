/**
 * The mask painter: a canvas the size of the image (in the image's own pixels), laid over it and scaled with
 * it. A brush paints with the mouse, a pen or a finger (pointer events; touch-action: none keeps a finger from
 * scrolling the page); "Paint all" and "Clear" work from the keyboard. What is painted is the area to edit.
 */
import { type PointerEvent, type RefObject, useEffect, useRef, useState } from "react";

export interface MaskCanvasProps {
  /** The image's object URL and its size in pixels. */
  image: { src: string; width: number; height: number; name: string };
  canvasRef: RefObject<HTMLCanvasElement | null>;
  onPaintedChange: (painted: boolean) => void;
}

/** The brush paints opaque on the canvas (the CSS shows it see-through): alpha alone says what is painted. */
const BRUSH_COLOUR = "#ec4899";

export function MaskCanvas({ image, canvasRef, onPaintedChange }: MaskCanvasProps) {
  const [brush, setBrush] = useState(32);
  const last = useRef<{ x: number; y: number } | null>(null);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    canvas.width = image.width;
    canvas.height = image.height;
    onPaintedChange(false);
  }, [image, canvasRef, onPaintedChange]);

  /** The pointer in the image's pixels, and the brush's radius there (the brush is sized on screen). */
  const at = (event: PointerEvent<HTMLCanvasElement>): { x: number; y: number; scale: number } => {
    const canvas = event.currentTarget;
    const box = canvas.getBoundingClientRect();
    const scale = canvas.width / box.width;
    return { x: (event.clientX - box.left) * scale, y: (event.clientY - box.top) * scale, scale };
  };

  const paint = (event: PointerEvent<HTMLCanvasElement>): void => {
    const context = event.currentTarget.getContext("2d");
    if (!context) return;
    const { x, y, scale } = at(event);
    const from = last.current ?? { x, y };
    context.strokeStyle = BRUSH_COLOUR;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = brush * scale;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(x, y);
    context.stroke();
    last.current = { x, y };
    onPaintedChange(true);
  };

  const down = (event: PointerEvent<HTMLCanvasElement>): void => {
    event.currentTarget.setPointerCapture(event.pointerId);
    last.current = null;
    paint(event);
  };
  const move = (event: PointerEvent<HTMLCanvasElement>): void => {
    if (event.currentTarget.hasPointerCapture(event.pointerId)) paint(event);
  };
  const up = (event: PointerEvent<HTMLCanvasElement>): void => {
    if (event.currentTarget.hasPointerCapture(event.pointerId)) event.currentTarget.releasePointerCapture(event.pointerId);
    last.current = null;
  };

  const fill = (painted: boolean): void => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext("2d");
    if (!canvas || !context) return;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (painted) {
      context.fillStyle = BRUSH_COLOUR;
      context.fillRect(0, 0, canvas.width, canvas.height);
    }
    onPaintedChange(painted);
  };

  return (
    <div className="pg-mask">
      <div className="pg-mask-stage">
        <img src={image.src} alt={`Uploaded image ${image.name}`} />
        <canvas
          ref={canvasRef}
          aria-label="Mask: drag over the image to paint the area to edit"
          onPointerDown={down}
          onPointerMove={move}
          onPointerUp={up}
          onPointerCancel={up}
          data-testid="mask-canvas"
        />
      </div>
      <div className="toolbar">
        <label className="field">
          <span>Brush size</span>
          <input type="range" min={4} max={96} value={brush} onChange={(event) => setBrush(Number(event.target.value))} aria-valuetext={`${brush} pixels`} />
        </label>
        <button type="button" className="button small" onClick={() => fill(true)}>
          Paint all
        </button>
        <button type="button" className="button small" onClick={() => fill(false)}>
          Clear mask
        </button>
      </div>
    </div>
  );
}
