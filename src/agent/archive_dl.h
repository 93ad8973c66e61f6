/* libarchive, loaded on first use instead of linked. libarchive pulls in
 * libxml2, ICU and libstdc++; linking it made every ward process (and the
 * sealed re-exec of each) load them, which doubled container start-up for a
 * library only snapshots need. The snapshot files include this header
 * instead of <archive.h>: it keeps libarchive's types and names, and routes
 * each call through a table filled by ward_archive_load(). */
#ifndef WARD_ARCHIVE_DL_H
#define WARD_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"

#define WARD_ARCHIVE_FUNCS(X)                  \
  X(archive_error_string)                      \
  X(archive_errno)                             \
  X(archive_write_new)                         \
  X(archive_write_free)                        \
  X(archive_write_set_format_pax_restricted)   \
  X(archive_write_open_fd)                     \
  X(archive_write_header)                      \
  X(archive_write_data)                        \
  X(archive_write_close)                       \
  X(archive_read_new)                          \
  X(archive_read_free)                         \
  X(archive_read_support_format_tar)           \
  X(archive_read_open_fd)                      \
  X(archive_read_next_header)                  \
  X(archive_read_data)                         \
  X(archive_read_data_skip)                    \
  X(archive_entry_new)                         \
  X(archive_entry_free)                        \
  X(archive_entry_pathname)                    \
  X(archive_entry_filetype)                    \
  X(archive_entry_size)                        \
  X(archive_entry_set_pathname)                \
  X(archive_entry_set_mtime)                   \
  X(archive_entry_set_filetype)                \
  X(archive_entry_set_perm)                    \
  X(archive_entry_set_size)                    \
  X(archive_entry_set_symlink)

struct ward_archive_api {
#define X(f) __typeof__(&f) f;
  WARD_ARCHIVE_FUNCS(X)
#undef X
};
extern struct ward_archive_api ward_archive;

/* Loads libarchive once (thread-safe); an error names the library when it
 * is not installed. Every entry point of the snapshot code calls it first. */
int ward_archive_load(ward_error_t *err);

#ifndef WARD_ARCHIVE_DL_IMPL
#define archive_error_string ward_archive.archive_error_string
#define archive_errno ward_archive.archive_errno
#define archive_write_new ward_archive.archive_write_new
#define archive_write_free ward_archive.archive_write_free
#define archive_write_set_format_pax_restricted ward_archive.archive_write_set_format_pax_restricted
#define archive_write_open_fd ward_archive.archive_write_open_fd
#define archive_write_header ward_archive.archive_write_header
#define archive_write_data ward_archive.archive_write_data
#define archive_write_close ward_archive.archive_write_close
#define archive_read_new ward_archive.archive_read_new
#define archive_read_free ward_archive.archive_read_free
#define archive_read_support_format_tar ward_archive.archive_read_support_format_tar
#define archive_read_open_fd ward_archive.archive_read_open_fd
#define archive_read_next_header ward_archive.archive_read_next_header
#define archive_read_data ward_archive.archive_read_data
#define archive_read_data_skip ward_archive.archive_read_data_skip
#define archive_entry_new ward_archive.archive_entry_new
#define archive_entry_free ward_archive.archive_entry_free
#define archive_entry_pathname ward_archive.archive_entry_pathname
#define archive_entry_filetype ward_archive.archive_entry_filetype
#define archive_entry_size ward_archive.archive_entry_size
#define archive_entry_set_pathname ward_archive.archive_entry_set_pathname
#define archive_entry_set_mtime ward_archive.archive_entry_set_mtime
#define archive_entry_set_filetype ward_archive.archive_entry_set_filetype
#define archive_entry_set_perm ward_archive.archive_entry_set_perm
#define archive_entry_set_size ward_archive.archive_entry_set_size
#define archive_entry_set_symlink ward_archive.archive_entry_set_symlink
#endif

#endif
