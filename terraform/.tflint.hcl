# tflint for every module and example: the bundled Terraform ruleset, all
# rules (typed and documented variables and outputs, standard module
# structure, pinned versions, naming). Plugins are never downloaded.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
