/** VGG16 on its own: 138 M parameters make it the slow one, so it runs in parallel with the rest. */
import { describeArchitecture } from './helpers.js';

describeArchitecture('vgg16', { referenceLearnedParams: 138_357_544 });
