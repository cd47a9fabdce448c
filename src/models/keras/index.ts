/** Keras files: `.keras` (Keras 3 zip) and `.h5` (Keras 2 / tf.keras HDF5), read into and written from the IR. */
export { readKerasH5, writeKerasH5 } from './legacy-h5.js';
export { readKerasZip, writeKerasZip } from './keras-zip.js';
