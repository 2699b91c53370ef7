import type { NotebookReport } from '../report';
import { notebook000 } from './n000';
import { notebook001 } from './n001';
import { notebook002 } from './n002';
import { notebook003 } from './n003';
import { notebook004 } from './n004';

/** Every seed notebook, in order. */
export const NOTEBOOKS: (() => NotebookReport)[] = [notebook000, notebook001, notebook002, notebook003, notebook004];
