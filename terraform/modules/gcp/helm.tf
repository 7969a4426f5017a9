# The Strata release in the existing GKE cluster (Workload Identity enabled;
# the caller configures the helm provider for it).
resource "helm_release" "strata" {
  name             = var.release_name
  namespace        = var.namespace
  create_namespace = true
  chart            = var.chart != "" ? var.chart : "${path.module}/../../../charts/strata"
  repository       = var.chart_repository
  version          = var.chart_version
  wait             = true
  timeout          = 900

  values = concat([yamlencode({
    replicas = var.replicas
    image = {
      repository = var.image_repository
      tag        = var.image_tag
    }
    serviceAccount = {
      create = true
      name   = local.service_account
    }
    objstore = {
      type   = "gcs"
      prefix = var.object_prefix
      gcs = {
        bucket                         = google_storage_bucket.this.name
        workloadIdentityServiceAccount = google_service_account.broker.email
      }
    }
  })], var.helm_values)

  depends_on = [google_storage_bucket_iam_member.broker, google_service_account_iam_member.workload_identity]
}
