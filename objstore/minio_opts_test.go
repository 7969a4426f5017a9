package objstore_test

import mc "github.com/minio/minio-go/v7"

func minioStatOpts() mc.StatObjectOptions { return mc.StatObjectOptions{} }
