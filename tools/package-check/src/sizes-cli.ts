import { printSizes } from './sizes';

await printSizes();
