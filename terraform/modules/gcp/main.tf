locals {
  bucket_name     = var.bucket_name != "" ? var.bucket_name : "${var.project_id}-${var.name}-strata"
  fullname        = strcontains(var.release_name, "strata") ? var.release_name : "${var.release_name}-strata"
  service_account = local.fullname
}

# The bucket holding sealed segments: uniform access, never public.
resource "google_storage_bucket" "this" {
  project                     = var.project_id
  name                        = local.bucket_name
  location                    = var.location
  force_destroy               = var.force_destroy
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle_rule {
    condition {
      age = var.abort_incomplete_multipart_upload_days
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}
