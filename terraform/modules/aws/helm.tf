# The Strata release in the existing EKS cluster (the caller configures the
# helm provider for it).
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
      type   = "s3"
      prefix = var.object_prefix
      s3 = {
        bucket      = aws_s3_bucket.this.id
        region      = aws_s3_bucket.this.region
        irsaRoleArn = aws_iam_role.broker.arn
      }
    }
  })], var.helm_values)

  depends_on = [aws_iam_role_policy.broker, aws_s3_bucket_policy.this]
}
