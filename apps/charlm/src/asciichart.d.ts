// asciichart ships no types; this declares the part the app uses.
declare module 'asciichart' {
  export interface PlotConfig {
    height?: number;
    offset?: number;
    padding?: string;
    min?: number;
    max?: number;
    colors?: string[];
    format?: (x: number, i: number) => string;
  }
  export function plot(series: number[] | number[][], config?: PlotConfig): string;
  export const blue: string;
  export const magenta: string;
  export const green: string;
  export const reset: string;
  const asciichart: { plot: typeof plot; blue: string; magenta: string; green: string; reset: string };
  export default asciichart;
}
