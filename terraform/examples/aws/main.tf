# Strata on an existing EKS cluster: an S3 bucket, an IRSA role and the Helm
# release, then the bootstrap address to give Kafka clients.
#
#   terraform init && terraform apply -var eks_cluster_name=my-cluster

provider "aws" {
  region = var.region
}

data "aws_eks_cluster" "this" {
  name = var.eks_cluster_name
}

data "aws_eks_cluster_auth" "this" {
  name = var.eks_cluster_name
}

provider "helm" {
  kubernetes {
    host                   = data.aws_eks_cluster.this.endpoint
    cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)
    token                  = data.aws_eks_cluster_auth.this.token
  }
}

module "strata" {
  source = "../../modules/aws"

  name             = var.name
  eks_cluster_name = var.eks_cluster_name
  kms_key_arn      = var.kms_key_arn
  replicas         = 3
  tags = {
    app = "strata"
  }
}
