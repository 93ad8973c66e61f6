/* Honeypot decoy files (docs/probes.md "Honeypot"). */
#ifndef WARD_PROBE_DECOYS_H
#define WARD_PROBE_DECOYS_H

#include "common/error.h"

/* Creates dir (0755) with the decoy files the probe serves in honeypot
 * mode: shadow, gshadow, id_rsa, id_ed25519, id_ecdsa, aws_credentials,
 * docker_config.json, kube_config, netrc, git-credentials, k8s_token
 * (0644, fresh random tokens per call). */
int ward_probe_write_decoys(const char *dir, ward_error_t *err);

#endif
