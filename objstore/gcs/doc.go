// Package gcs is the Google Cloud Storage objstore backend, built on
// cloud.google.com/go/storage (JSON API over HTTP). Credentials come from
// Application Default Credentials unless client options say otherwise;
// STORAGE_EMULATOR_HOST points the client at an emulator. Conditional
// creates use the DoesNotExist precondition (ifGenerationMatch=0). The
// client's own retries are off: retrying is objstore.WithRetry's job, and
// 429 and 5xx answers are marked with objstore.ErrTransient.
package gcs
