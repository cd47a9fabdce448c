/**
 * onnxruntime-node 1.30's Linux build starts a telemetry client with its first session, which
 * writes `.ses` (a device id) and `mat-debug-<pid>.log` into the temp folder and never removes
 * them. ORT_DISABLE_TELEMETRY (read from the environment when ORT creates its environment) turns it
 * off; no session option does. A user who sets the variable explicitly keeps their choice.
 * Imported before onnxruntime-node so it holds even if ORT initialises at import time.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
