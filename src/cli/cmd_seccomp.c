/* ward seccomp: convert Docker/containers-common profiles to the OCI form
 * and check that a profile compiles. Argument parsing only; the work is in
 * src/seccomp. */
#include "cli/commands.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/util.h"
#include "seccomp/seccomp.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ward seccomp convert (PROFILE | --default) [OPTIONS] [-o FILE]\n"
          "       ward seccomp check (PROFILE | --default) [OPTIONS] [--cache DIR]\n\n"
          "convert prints the OCI linux.seccomp form of a Docker, containers-common or OCI\n"
          "profile, resolved for the capabilities, architecture and kernel given.\n"
          "check parses and compiles it and reports the rules and the cache key.\n\n"
          "Options:\n"
          "  --caps LIST     CAP_A,CAP_B | default (Docker's 14, the default) | all | none\n"
          "  --arch ARCH     resolve for ARCH (amd64, arm64, SCMP_ARCH_S390X...; default native)\n"
          "  --kernel X.Y    resolve for kernel X.Y (default: the running kernel)\n"
          "  --default       ward's built-in default profile instead of a file\n"
          "  -o FILE         write to FILE (convert)\n"
          "  --cache DIR     use DIR as the compiled-filter cache (check)\n");
}

struct opts {
  struct ward_seccomp_target target;
  const char *output, *cache, *profile;
  bool use_default;
};

static int parse_opts(int argc, char **argv, struct opts *o, ward_error_t *err)
{
  enum { OPT_CAPS = 256, OPT_ARCH, OPT_KERNEL, OPT_DEFAULT, OPT_CACHE, OPT_HELP };
  static const struct option long_opts[] = {
    {"caps", required_argument, NULL, OPT_CAPS},
    {"arch", required_argument, NULL, OPT_ARCH},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"default", no_argument, NULL, OPT_DEFAULT},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
  };
  o->target.caps = ward_seccomp_docker_default_caps();
  int c;
  while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
    switch (c) {
    case OPT_CAPS:
      if (ward_seccomp_parse_caps(optarg, &o->target.caps, err) < 0)
        return ward_error_prefix(err, "--caps");
      break;
    case OPT_ARCH:
      if (ward_seccomp_arch_from_name(optarg, &o->target.arch, err) < 0)
        return ward_error_prefix(err, "--arch");
      break;
    case OPT_KERNEL:
      if (ward_seccomp_parse_kernel(optarg, &o->target, err) < 0)
        return ward_error_prefix(err, "--kernel");
      break;
    case OPT_DEFAULT: o->use_default = true; break;
    case OPT_CACHE: o->cache = optarg; break;
    case 'o': o->output = optarg; break;
    case 'h':
    case OPT_HELP: return 1;
    default: return 2;
    }
  }
  if (optind < argc)
    o->profile = argv[optind++];
  if (optind < argc || (o->profile == NULL) == !o->use_default)
    return 2;
  return 0;
}

static int load_profile(const struct opts *o, struct ward_seccomp **s, ward_error_t *err)
{
  if (o->use_default)
    return ward_seccomp_default_for(&o->target, s, err);
  return ward_seccomp_read_file(o->profile, &o->target, s, err);
}

static int do_convert(const struct opts *o, ward_error_t *err)
{
  struct ward_seccomp *s = NULL;
  if (load_profile(o, &s, err) < 0)
    return -1;
  _cleanup_json_ json_t *oci = NULL;
  int rc = ward_seccomp_to_oci(s, &oci, err);
  ward_seccomp_free(s);
  if (rc < 0)
    return -1;
  _cleanup_free_ char *text = json_dumps(oci, JSON_INDENT(2));
  if (text == NULL)
    return ward_error(err, ENOMEM, "seccomp convert");
  size_t len = strlen(text);
  text[len] = '\n';  /* over the NUL: the buffer is written by length */
  if (o->output)
    return ward_write_file_atomic(o->output, text, len + 1, 0644, err);
  if (fwrite(text, 1, len + 1, stdout) != len + 1 || fflush(stdout) != 0)
    return ward_error_sys(err, "seccomp convert: writing to standard output");
  return 0;
}

static int do_check(const struct opts *o, ward_error_t *err)
{
  struct ward_seccomp *s = NULL;
  if (load_profile(o, &s, err) < 0)
    return -1;
  struct ward_seccomp_prog *p = NULL;
  int rc = ward_seccomp_compile(s, o->cache, &p, err);
  size_t rules = ward_seccomp_rule_count(s);
  ward_seccomp_free(s);
  if (rc < 0)
    return -1;
  size_t n = 0;
  ward_seccomp_prog_insns(p, &n);
  printf("%s: %zu rules, %zu BPF instructions%s%s\ncache key: %s\n",
         o->use_default ? "default" : o->profile, rules, n,
         ward_seccomp_prog_wants_listener(p) ? ", notify listener" : "",
         ward_seccomp_prog_from_cache(p) ? " (from cache)" : "", ward_seccomp_prog_key(p));
  ward_seccomp_prog_free(p);
  return 0;
}

int cmd_seccomp(struct ward_global *g, int argc, char **argv)
{
  (void) g;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1];
  bool convert = strcmp(sub, "convert") == 0;
  if (!convert && strcmp(sub, "check") != 0)
    return cli_usage_error(argv[0], "unknown subcommand '%s' (convert or check)", sub);
  _cleanup_error_ ward_error_t err = NULL;
  struct opts o = {0};
  int rc = parse_opts(argc - 1, argv + 1, &o, &err);
  if (rc < 0)
    return cli_fail(&err);
  if (rc == 1) {
    usage(stdout);
    return 0;
  }
  if (rc == 2)
    return cli_usage_error(argv[0], "%s takes one PROFILE or --default", sub);
  rc = convert ? do_convert(&o, &err) : do_check(&o, &err);
  return rc < 0 ? cli_fail(&err) : 0;
}
