/* The agent's message decoder reads datagrams from any process of the
 * agent's uid. The first input byte is the descriptor count claimed to
 * have arrived (0..3); the rest is the datagram. Decoding must stay in
 * bounds, leak nothing, and a decoded registration must hold only what the
 * decoder promises (valid id, normalised paths, fd indexes in range). */
#include "agent/agent_proto.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t nfds = data[0] % (WARD_AGENT_MAX_FDS + 1);
  struct ward_agent_msg m;
  ward_error_t err = NULL;
  if (ward_agent_msg_decode(data + 1, size - 1, nfds, &m, &err) < 0) {
    if (err == NULL || err->msg == NULL)
      abort();
    ward_error_free(&err);
    return 0;
  }
  if (m.type == WARD_AGENT_REGISTER) {
    size_t n = strlen(m.reg.state_dir);
    if (!ward_valid_id(m.reg.id) || m.reg.state_dir[0] != '/' || strstr(m.reg.state_dir, "/../") ||
        strstr(m.reg.state_dir, "/./") || strstr(m.reg.state_dir, "//") ||
        (n >= 3 && strcmp(m.reg.state_dir + n - 3, "/..") == 0) || m.reg.app == NULL)
      abort();
    for (int i = 0; i < WARD_AGENT_FD_ROLES; i++)
      if (m.reg.fd_index[i] >= (int) nfds)
        abort();
    if (m.reg.fd_index[WARD_AGENT_FD_PIDFD] < 0)
      abort();
  }
  ward_agent_msg_clear(&m);
  return 0;
}
