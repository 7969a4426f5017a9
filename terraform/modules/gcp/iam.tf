# The brokers' Google service account: object admin on this bucket only, and
# impersonated by the brokers' Kubernetes service account (Workload Identity).
resource "google_service_account" "broker" {
  project      = var.project_id
  account_id   = "${var.name}-strata-broker"
  display_name = "Strata brokers (${var.name})"
}

resource "google_storage_bucket_iam_member" "broker" {
  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.broker.email}"
}

resource "google_service_account_iam_member" "workload_identity" {
  service_account_id = google_service_account.broker.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${local.service_account}]"
}
