/* gst-vyre
 *
 * vyre-walk.h - which files a scan reads: a directory walk or a list of
 * paths, turned into an ordered list of files, and every entry left out
 * recorded with the reason.
 *
 * The walk (vyre_walk_tree):
 *  - is recursive unless told otherwise; a directory met when it is not
 *    is recorded as skipped (VYRE_WALK_SKIP_NOT_RECURSIVE);
 *  - returns the files sorted by their path relative to the root, compared
 *    byte by byte (strcmp: "a-b" before "a/b"), whatever order readdir
 *    gives: the same tree always gives the same list;
 *  - does not follow symbolic links unless follow_symlinks; followed or
 *    not, a directory (by device and inode) is walked at most once, so a
 *    link loop ends as a VYRE_WALK_SKIP_LOOP entry;
 *  - matches every `exclude` glob (GLib's GPatternSpec: '*' and '?', where
 *    '*' also matches '/') against the relative path, and against the
 *    relative path plus "/" for directories, so "vendor/" followed by
 *    '*' prunes the directory vendor itself;
 *  - skips .git, .hg and .svn directories unless include_vcs; includes
 *    hidden files (.env holds secrets);
 *  - skips regular files over max_file_size bytes (0: no limit);
 *  - skips FIFOs, sockets and devices from their stat alone: they are
 *    never opened (opening a FIFO blocks until a writer comes);
 *  - records directories and links it cannot open or stat
 *    (VYRE_WALK_SKIP_UNREADABLE with the errno) and goes on.
 * Directories are read with ordinary calls (openat, fdopendir, fstatat
 * relative to the directory's descriptor): io_uring has no getdents.
 *
 * The list (vyre_walk_files_from): a file with one path per line, or
 * NUL-separated as `find -print0` writes (when the text holds a NUL byte);
 * "-" reads standard input.  Paths come out in the list's order, relative
 * path = the path as listed; empty lines are ignored; exclude and
 * max_file_size apply; directories, special files and paths that cannot be
 * stat'ed are skipped with their reason.
 *
 * Plain C with GLib; tests/elements/test_walk.c covers it.
 */
#ifndef VYRE_WALK_H
#define VYRE_WALK_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean recursive;           /* default TRUE */
  gboolean follow_symlinks;     /* default FALSE */
  gboolean include_vcs;         /* default FALSE */
  guint64 max_file_size;        /* 0: no limit (default) */
  const gchar *const *exclude;  /* NULL-terminated globs, or NULL */
} VyreWalkOptions;

typedef enum
{
  VYRE_WALK_SKIP_EXCLUDED,      /* matched an exclude pattern */
  VYRE_WALK_SKIP_TOO_LARGE,     /* over max_file_size */
  VYRE_WALK_SKIP_VCS,           /* .git, .hg, .svn */
  VYRE_WALK_SKIP_SYMLINK,       /* a symbolic link, not followed */
  VYRE_WALK_SKIP_LOOP,          /* a directory already walked */
  VYRE_WALK_SKIP_SPECIAL,       /* FIFO, socket or device: never opened */
  VYRE_WALK_SKIP_NOT_RECURSIVE, /* a directory, recursive off */
  VYRE_WALK_SKIP_DIRECTORY,     /* a directory named in a files-from list */
  VYRE_WALK_SKIP_UNREADABLE,    /* stat or open failed: see error */
} VyreWalkSkipReason;

typedef struct
{
  gchar *path;                  /* to open: the root (or list entry) joined */
  gchar *rel_path;              /* relative to the root; the sort key */
  guint64 size;                 /* stat size when listed */
} VyreWalkFile;

typedef struct
{
  gchar *path;
  VyreWalkSkipReason reason;
  int error;                    /* errno for VYRE_WALK_SKIP_UNREADABLE, else 0 */
} VyreWalkSkip;

typedef struct
{
  GPtrArray *files;             /* VyreWalkFile *, in order */
  GPtrArray *skips;             /* VyreWalkSkip *, in the order met */
} VyreWalkResult;

/* Defaults: recursive, no links followed, no VCS, no size limit. */
void vyre_walk_options_init (VyreWalkOptions * opts);

/* Walks root (a directory, or a single file: then the list is that file,
 * its relative path its base name).  NULL with *err set when root itself
 * cannot be stat'ed or opened, or is not a file or directory, or an
 * exclude pattern is empty. */
VyreWalkResult *vyre_walk_tree (const gchar * root,
    const VyreWalkOptions * opts, GError ** err);

/* vyre_walk_tree on a thread of its own, begun before the list is
 * needed: vyreurisrc begins it when going to READY, so the tree is
 * walked while vyrescan opens the device.  opts (and its exclude globs)
 * are copied.  NULL when no thread could be started.
 * vyre_walk_ahead_is_for tells whether it walks root with opts (settings
 * changed since it began: walk again); vyre_walk_ahead_finish waits for
 * it and returns what vyre_walk_tree returned, freeing it;
 * vyre_walk_ahead_free stops one nobody waits for (at the walk's next
 * entry) and frees it. */
typedef struct _VyreWalkAhead VyreWalkAhead;
VyreWalkAhead *vyre_walk_ahead_begin (const gchar * root,
    const VyreWalkOptions * opts);
gboolean vyre_walk_ahead_is_for (VyreWalkAhead * wa, const gchar * root,
    const VyreWalkOptions * opts);
VyreWalkResult *vyre_walk_ahead_finish (VyreWalkAhead * wa, GError ** err);
void vyre_walk_ahead_free (VyreWalkAhead * wa);

/* Reads the list at list_path ("-": standard input).  NULL with *err set
 * when the list cannot be read. */
VyreWalkResult *vyre_walk_files_from (const gchar * list_path,
    const VyreWalkOptions * opts, GError ** err);

void vyre_walk_result_free (VyreWalkResult * result);

/* "excluded", "larger than max-file-size", ... for reports and messages. */
const gchar *vyre_walk_skip_reason_text (VyreWalkSkipReason reason);

/* A short stable name for programs: "excluded", "too-large", "vcs",
 * "symlink", "loop", "special", "not-recursive", "directory",
 * "unreadable". */
const gchar *vyre_walk_skip_reason_nick (VyreWalkSkipReason reason);

/* TRUE for entries that could not be scanned because of the entry itself
 * (unreadable, a FIFO, socket or device, a directory in a list): trouble
 * a strict scan fails on.  FALSE for entries the options leave out
 * (exclude, max-file-size, VCS directories, links not followed, a link
 * loop walked once, recursive off). */
gboolean vyre_walk_skip_is_trouble (VyreWalkSkipReason reason);

G_END_DECLS
#endif /* VYRE_WALK_H */
