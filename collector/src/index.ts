export function hello (x: number): string {
  if (x > 1) return 'big'
  return 'small'
}
