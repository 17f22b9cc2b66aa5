/* gst-vyre
 *
 * gstvyreurisrc.c - vyreurisrc: file reads through io_uring, several in
 * flight, straight into the memory downstream scans.
 */
/**
 * SECTION:element-vyreurisrc
 * @title: vyreurisrc
 * @see_also: vyrescan, filesrc
 *
 * Reads a file with io_uring, keeping #GstVyreUriSrc:queue-depth reads of
 * #GstVyreUriSrc:blocksize bytes in flight ahead of the buffer being pushed.
 * Every completion is matched to its read by its user_data, so the kernel may
 * complete them in any order; short reads are continued; a file that shrinks
 * while it is read ends the stream with an error, never a short stream.
 *
 * Where the bytes land: when downstream offers an allocator in the
 * ALLOCATION query (vyrescan offers its GPU-readable arena) every read goes
 * straight into memory from it, exactly as many bytes as the read asks, so
 * the bytes io_uring reads are the bytes the GPU scans (vyrescan's
 * bytes-copied stays 0); when all of downstream's blocks are held, the read
 * waits (woken when one returns, at most 200 ms) before it reads into
 * system memory.  Otherwise reads land in the element's own arena
 * (vyre-read-arena.c), blocks of min(blocksize, file size), no more than
 * the file takes reads, at most 64 MiB of them registered with io_uring as
 * fixed buffers (IORING_OP_READ_FIXED: the kernel does not look up and pin
 * the pages on every read).
 *
 * A directory (#GstVyreUriSrc:location) or a list of files
 * (#GstVyreUriSrc:files-from) is read as the files' concatenation, one
 * file after another in the walk's sorted order (vyre-walk.h) or the
 * list's: one BYTES segment, offsets running on across files, not
 * seekable.  A directory's walk begins when going to READY, on a thread,
 * and going to PAUSED takes its list (walked again when a property changed
 * meanwhile).  A file's first buffer is DISCONT; no buffer holds bytes of
 * two files, an empty file has one empty buffer; every buffer carries a
 * #GstVyreFileMeta (gstvyrefilemeta.h) naming its file.  With
 * #GstVyreUriSrc:file-tags a sticky tag event (GST_TAG_LOCATION: its
 * file:// URI) comes before each file's first buffer too: off by default,
 * since each costs every element downstream an event per file (10-20% of
 * a tree of small files' time on a GPU machine, docs/benchmarks.md), and
 * filesrc and multifilesrc send none either.
 * Files are stat'ed, opened and closed through io_uring, many at once
 * ahead of the one being read (vyre-file-opener.h: STATX, then OPENAT2
 * beneath the walked directory with O_NOFOLLOW and RESOLVE_NO_SYMLINKS
 * unless follow-symlinks, O_NONBLOCK, then a check that the descriptor is
 * the regular file that was listed), handed over in the list's order, and
 * read through io_uring like a single file.  Unless direct=true, the
 * files are opened with system calls on worker threads (one per core),
 * and those that fit one buffer are read whole there (pread) into the
 * memory they are pushed in, asked for in the list's order (not with
 * io-mode=fixed or read).  A file that
 * cannot be opened or read, vanished since it was listed, or shrank while
 * read is skipped (what was read of it stays in the stream), as are the
 * entries the walk leaves out: each is named in a "vyre-file-skipped"
 * element message (fields in vyre-uri-src-diagnostics.h) and counted in
 * io-stats; #GstVyreUriSrc:strict makes the trouble ones errors.
 *
 * Files whose stat size is no size (procfs, sysfs and their kind, regular
 * files of size 0) are read to end of file, as filesrc does, in pieces of
 * at most 1 MiB; no size is claimed for them.
 *
 * Fallbacks, each announced once with a warning message that says why and
 * what to do: registered buffers -> plain io_uring reads (RLIMIT_MEMLOCK too
 * low, or memory that cannot be pinned) -> pread(2) (io_uring not available:
 * seccomp, kernel.io_uring_disabled, an old kernel).  #GstVyreUriSrc:io-mode
 * picks one mode and fails instead of falling back.  With
 * #GstVyreUriSrc:direct reads bypass the page cache (O_DIRECT, offsets,
 * lengths and memory aligned to the file system's direct-I/O alignment);
 * a file system that refuses O_DIRECT falls back to cached reads, announced.
 *
 * For tests, the environment variable VYRE_URISRC_FORCE injects failures
 * (comma-separated): setup=ERRNO (io_uring_setup fails), register=ERRNO
 * (buffer registration fails), direct=ERRNO (open with O_DIRECT fails),
 * read=ERRNO[@OFFSET] (the read covering stream offset OFFSET, default the
 * first one, fails once), stall (reads never seem to complete: only unlock
 * ends the wait), chunk=BYTES (every read is issued in pieces of at most BYTES, the
 * short-read continuation path), open-ahead=N (at most N files of a
 * directory or a list are opened ahead of the one being read).  ERRNO is a
 * name such as EPERM or ENOMEM.
 *
 * The URI handler (file://) is registered at rank NONE: playbin never picks
 * this element by itself.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vyreurisrc location=big.log ! vyrescan patterns-file=secrets.txt ! fakesink
 * gst-launch-1.0 vyreurisrc location=big.bin blocksize=4194304 queue-depth=16 ! fakesink
 * gst-launch-1.0 vyreurisrc location=/mnt/nvme/cold.bin direct=true ! filesink location=copy.bin
 * gst-launch-1.0 vyreurisrc location=file:///srv/data/big.log io-mode=pread ! fakesink
 * gst-launch-1.0 vyreurisrc location=src/ exclude='<"*.png","vendor">' ! vyrescan patterns=password ! vyresink
 * find . -name '*.log' -print0 | gst-launch-1.0 vyreurisrc files-from=- ! filesink location=all-logs.bin
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "gstvyreurisrc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gstvyrefilemeta.h"
#include "gstvyrememory.h"
#include "vyre-read-arena.h"
#include "vyre-file-opener.h"
#include "vyre-uri-src-diagnostics.h"
#include "vyre-uring-reader.h"
#include "vyre-walk.h"

GST_DEBUG_CATEGORY (vyre_uri_src_debug);
#define GST_CAT_DEFAULT vyre_uri_src_debug
GST_DEBUG_CATEGORY_EXTERN (GST_CAT_PERFORMANCE);

#define DEFAULT_BLOCKSIZE (1u << 20)
#define MAX_BLOCKSIZE (1u << 30)
#define DEFAULT_QUEUE_DEPTH 8
#define DEFAULT_IO_WORKERS TRUE
#define MAX_QUEUE_DEPTH 256
#define DEFAULT_DIRECT FALSE
#define DEFAULT_IO_MODE GST_VYRE_URI_SRC_IO_AUTO
/* The longest a wait goes without looking at the unlock flag. */
#define WAIT_SLICE_MS 20
/* io-stats' live counters are copied every this many buffers. */
#define STATS_EVERY 64
/* How long the read create() needs waits for downstream to return one of
 * its GPU-readable blocks before reading into system memory (copied). */
#define DOWNSTREAM_WAIT_MS 200
/* Reading several files: the smallest read the arena is planned for, so
 * that a list of tiny files still reads files of unknown size (procfs) in
 * useful pieces. */
#define MIN_TREE_READ (64u << 10)
/* do_create's "this file cannot be read further" (several files only):
 * complete_head left the reason in self->trouble_*. */
#define FLOW_FILE_TROUBLE GST_FLOW_CUSTOM_ERROR_1
/* create_from_files asked not to wait: the next file is not ready, or
 * would need reads. */
#define FLOW_WOULD_BLOCK GST_FLOW_CUSTOM_SUCCESS_1
/* Several files without file-tags: files read ahead whole that are ready
 * go downstream together, one buffer each in a GstBufferList (one push
 * through every element instead of one per file), this many at most. */
#define LIST_MAX_FILES 256
#define LIST_MAX_BYTES (4u << 20)
/* Several files: the most worker threads that open (and read ahead) them. */
#define MAX_OPEN_THREADS 16
/* Memory read-ahead may hold at once: of downstream's GPU blocks (few:
 * one per ring slot, shared with what is in flight on the GPU), of our own
 * (system memory). */
#define READ_AHEAD_DOWN_BLOCKS 8
#define READ_AHEAD_OWN_BYTES ((guint64) 32 << 20)

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_BLOCKSIZE,
  PROP_QUEUE_DEPTH,
  PROP_IO_WORKERS,
  PROP_DIRECT,
  PROP_IO_MODE,
  PROP_IO_STATS,
  PROP_FILES_FROM,
  PROP_RECURSIVE,
  PROP_FOLLOW_SYMLINKS,
  PROP_EXCLUDE,
  PROP_MAX_FILE_SIZE,
  PROP_INCLUDE_VCS,
  PROP_SKIP_BINARY,
  PROP_STRICT,
  PROP_FILE_TAGS,
};

/* Fallbacks are announced once per element. */
enum
{
  ANNOUNCE_URING = 1 << 0,
  ANNOUNCE_FIXED = 1 << 1,
  ANNOUNCE_DIRECT = 1 << 2,
  ANNOUNCE_DOWNSTREAM = 1 << 3,
  ANNOUNCE_BLOCK_FIT = 1 << 4,
};

typedef enum
{
  MODE_NONE,
  MODE_FIXED,
  MODE_READ,
  MODE_PREAD,
} ActiveMode;

static const gchar *const mode_names[] = { "none", "fixed", "read", "pread" };

typedef struct
{
  int setup_errno;
  int register_errno;
  int direct_errno;
  int read_errno;
  gboolean read_at_set;
  guint64 read_at;
  gboolean stall;
  gsize chunk;
  guint open_ahead;             /* files opened ahead at most; 0: the bound */
} Faults;

/* A file read ahead by one of the opener's workers: the buffer it was
 * read into, mapped for writing until it is taken.  Read whole, the
 * worker also made what the streaming thread would make when it takes
 * the file (read_ahead_done): its path for the file meta and, with
 * file-tags, its location tag. */
typedef struct
{
  GstBuffer *buf;
  GstMapInfo map;
  gchar *path;                  /* a GRefString, or NULL */
  GstEvent *tag;                /* or NULL */
} ReadAhead;

/* One read, in file order in self->pending. */
typedef struct
{
  int id;                       /* reader id; -1 for pread */
  GstBuffer *buf;
  GstMapInfo map;
  guint64 offset;               /* the bytes create() hands out */
  gsize len;
  guint64 read_offset;          /* where the kernel reads (aligned for direct) */
  gsize read_len;
  gsize need;                   /* bytes that must arrive: skip + len */
  gboolean fixed;
  gboolean downstream;
  gboolean direct;
  /* pread results */
  gsize done;
  int error;
  gboolean eof;
} Pending;

typedef struct
{
  guint64 buffers;
  guint64 bytes;
  guint64 reads_fixed;
  guint64 reads_read;
  guint64 reads_pread;
  guint64 read_ahead_restarts;
  guint64 cancelled;
  guint64 arena_misses;
  guint64 downstream_waits;     /* create waited for downstream's memory */
  guint64 max_in_flight;
  guint64 files_scanned;        /* read to their end */
  guint64 files_skipped;        /* named in a vyre-file-skipped message */
  VyreFileOpenerStats opener;   /* as of the last create() */
  VyreUringReaderStats ring;    /* of readers already freed, summed */
  VyreUringReaderStats ring_live;       /* of the running reader */
} Stats;

struct _GstVyreUriSrc
{
  GstBaseSrc parent;

  /* properties, under the object lock */
  gchar *location;
  guint queue_depth;
  gboolean io_workers;
  gboolean direct;
  GstVyreUriSrcIoMode io_mode;
  gchar *files_from;
  VyreWalkOptions walk_opts;    /* exclude unused: self->exclude is */
  gchar **exclude;
  gboolean skip_binary;
  gboolean strict;
  gboolean file_tags;

  /* Several files (location a directory, or files-from): set at start,
   * then the streaming thread's.  The stream is the files' concatenation;
   * self->fd and the fields below it describe the file being read. */
  gboolean multi;
  VyreWalkAhead *walk_ahead;    /* begun in NULL->READY for a directory */
  VyreWalkResult *walk;
  VyreFileOpener *opener;       /* opens walk->files, in order */
  gboolean tree_follow_symlinks, tree_skip_binary, tree_strict, tree_direct;
  gboolean tree_file_tags;      /* a location tag before each file */
  gsize tree_read_len;          /* the largest read: min(blocksize, largest) */
  guint files_pushed;           /* files with bytes in the stream so far */
  guint64 files_total;          /* listed and left out; object lock */
  guint64 stream_pos;           /* bytes pushed, all files */
  guint file_index;             /* the current file's GstVyreFileMeta index */
  guint64 file_base;            /* stream offset of its byte 0 */
  guint64 file_pos;             /* its bytes pushed */
  gboolean file_started;        /* its first buffer pushed */
  gboolean file_complete;       /* the last buffer ended it, no read needed */
  GstFlowReturn deferred_flow;  /* an error met while gathering a list */
  ReadAhead *ahead;             /* the file being read, read ahead whole */
  GstEvent *file_tag;           /* its location tag, made by a worker */
  guint64 ahead_done;           /* its bytes read */
  int ahead_error;              /* its read's errno */
  const gchar *trouble_reason;  /* why FLOW_FILE_TROUBLE came */
  gchar *trouble_text;
  int trouble_errno;

  /* The file being read, as GstVyreFileMeta names it (a GRefString), or
   * NULL.  From start to stop; the streaming thread's. */
  gchar *file_path;

  /* from start to stop; the streaming thread's */
  guint buffers_since_snapshot; /* of the io-stats counters */
  int fd;
  int dfd;                      /* O_DIRECT descriptor, or -1 */
  gsize align;                  /* direct-I/O alignment */
  guint64 size;                 /* bytes at start (only ever grows); object lock */
  gboolean size_known;          /* FALSE: read to end of file; object lock */
  guint64 eof_at;               /* size unknown: where end of file came */
  gsize unknown_chunk;          /* size unknown: the most one read asks for */
  const gchar *pseudo_fs;       /* "procfs", "sysfs"..., or NULL */
  gboolean is_blockdev;
  guint depth;                  /* queue-depth at start: the reader's slots */
  ActiveMode mode;
  gboolean direct_active;
  VyreUringReader *reader;
  VyreReadArena *arena;         /* our own memory */
  guint64 arena_bytes;          /* its size and what of it is registered */
  guint64 pinned_bytes;         /* (object lock; kept after stop for io-stats) */
  GstAllocator *down_alloc;     /* offered downstream, or NULL */
  gboolean down_refused;        /* its memory failed a read (EFAULT) */
  GQueue pending;               /* the streaming thread's */
  guint in_flight;              /* its length, for io-stats; object lock */
  guint64 next_offset;
  gsize chunk;
  Faults faults;

  gint unlocked;                /* atomic */
  guint announced;

  Stats stats;                  /* object lock */
};

static void gst_vyre_uri_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_vyre_uri_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVyreUriSrc, gst_vyre_uri_src, GST_TYPE_BASE_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_vyre_uri_src_uri_handler_init);
    GST_DEBUG_CATEGORY_INIT (vyre_uri_src_debug, "vyreurisrc", 0,
        "gst-vyre io_uring file source"));
GST_ELEMENT_REGISTER_DEFINE (vyreurisrc, "vyreurisrc", GST_RANK_NONE,
    GST_TYPE_VYRE_URI_SRC);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_vyre_uri_src_io_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VYRE_URI_SRC_IO_AUTO, "Registered fixed buffers, else plain io_uring "
          "reads, else pread (each fallback announced)", "auto"},
    {GST_VYRE_URI_SRC_IO_FIXED, "io_uring READ_FIXED into the registered "
          "arena; fail if it cannot be registered", "fixed"},
    {GST_VYRE_URI_SRC_IO_READ, "io_uring READ, no registered buffers; fail "
          "without io_uring", "read"},
    {GST_VYRE_URI_SRC_IO_PREAD, "pread(2), one read at a time, no io_uring",
        "pread"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstVyreUriSrcIoMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static const struct
{
  const char *name;
  int value;
} errno_names[] = {
  {"EPERM", EPERM}, {"ENOENT", ENOENT}, {"EIO", EIO}, {"ENOMEM", ENOMEM},
  {"EACCES", EACCES}, {"EFAULT", EFAULT}, {"EINVAL", EINVAL},
  {"ENOSYS", ENOSYS}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EAGAIN", EAGAIN},
  {"EBADF", EBADF}, {"ENXIO", ENXIO},
};

static int
parse_errno (const gchar * s)
{
  for (guint i = 0; i < G_N_ELEMENTS (errno_names); i++)
    if (g_ascii_strcasecmp (s, errno_names[i].name) == 0)
      return errno_names[i].value;
  gint64 v = g_ascii_strtoll (s, NULL, 10);
  return v > 0 ? (int) v : EIO;
}

static void
parse_faults (GstVyreUriSrc * self, Faults * f)
{
  memset (f, 0, sizeof *f);
  const gchar *env = g_getenv ("VYRE_URISRC_FORCE");
  if (env == NULL || *env == '\0')
    return;
  gchar **items = g_strsplit (env, ",", -1);
  for (gchar ** it = items; *it; it++) {
    gchar *item = g_strstrip (*it);
    gchar *eq = strchr (item, '=');
    const gchar *val = eq ? eq + 1 : "";
    if (eq)
      *eq = '\0';
    if (g_str_equal (item, "setup"))
      f->setup_errno = parse_errno (val);
    else if (g_str_equal (item, "register"))
      f->register_errno = parse_errno (val);
    else if (g_str_equal (item, "direct"))
      f->direct_errno = parse_errno (val);
    else if (g_str_equal (item, "read")) {
      gchar *at = strchr (val, '@');
      if (at) {
        *at = '\0';
        f->read_at_set = TRUE;
        f->read_at = g_ascii_strtoull (at + 1, NULL, 10);
      }
      f->read_errno = parse_errno (val);
    } else if (g_str_equal (item, "stall"))
      f->stall = TRUE;
    else if (g_str_equal (item, "chunk"))
      f->chunk = g_ascii_strtoull (val, NULL, 10);
    else if (g_str_equal (item, "open-ahead"))
      f->open_ahead = (guint) g_ascii_strtoull (val, NULL, 10);
    else if (*item)
      GST_WARNING_OBJECT (self, "VYRE_URISRC_FORCE: unknown item '%s'", item);
  }
  g_strfreev (items);
  GST_INFO_OBJECT (self, "VYRE_URISRC_FORCE=%s", env);
}

static gboolean
announce_once (GstVyreUriSrc * self, guint what)
{
  if (self->announced & what)
    return FALSE;
  self->announced |= what;
  return TRUE;
}

static gchar *
get_location (GstVyreUriSrc * self)
{
  GST_OBJECT_LOCK (self);
  gchar *loc = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);
  return loc;
}

/* The file being read: of several, the current one; else location. */
static gchar *
current_path (GstVyreUriSrc * self)
{
  if (self->file_path)
    return g_strdup (self->file_path);
  return get_location (self);
}

static guint64
get_known_size (GstVyreUriSrc * self)
{
  GST_OBJECT_LOCK (self);
  guint64 s = self->size;
  GST_OBJECT_UNLOCK (self);
  return s;
}

/* Where the stream ends as far as the streaming thread knows: the size, or
 * for a file of unknown size the end of file once a read met it. */
static guint64
stream_end (GstVyreUriSrc * self)
{
  GST_OBJECT_LOCK (self);
  guint64 end = self->size_known ? self->size : self->eof_at;
  GST_OBJECT_UNLOCK (self);
  return end;
}

/* ------------------------------------------------------------------ */
/* Opening, and the fallback chain                                     */

static gboolean gst_vyre_uri_src_stop (GstBaseSrc * bsrc);
static gboolean start_reads (GstVyreUriSrc * self, ActiveMode mode,
    guint depth, gchar * path);
static gboolean file_skipped (GstVyreUriSrc * self, const gchar * path,
    const gchar * reason, const gchar * description, int err,
    guint64 bytes_read, gboolean trouble);
static gboolean in_downstream_arena (GstAllocator * alloc, GstMemory * mem);

static gsize
direct_alignment (GstVyreUriSrc * self, const gchar * path)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize align = 0;
#ifdef STATX_DIOALIGN
  struct statx sx;
  if (statx (self->dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
      (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align > 0)
    align = MAX (sx.stx_dio_offset_align, sx.stx_dio_mem_align);
#endif
  if (align == 0 && self->is_blockdev) {
    int lbs = 0;
    if (ioctl (self->dfd, BLKSSZGET, &lbs) == 0 && lbs > 0)
      align = (gsize) lbs;
  }
  if (align == 0)
    align = page;               /* unknown: a page satisfies every file system */
  GST_INFO_OBJECT (self, "O_DIRECT alignment for %s: %" G_GSIZE_FORMAT,
      path, align);
  return align;
}

static void
announce_direct_refused (GstVyreUriSrc * self, const gchar * path, int e,
    const gchar * when)
{
  if (announce_once (self, ANNOUNCE_DIRECT))
    vyre_uri_src_warn_direct_refused (GST_ELEMENT (self), path, e, when);
}

static void
announce_fixed_unavailable (GstVyreUriSrc * self, int e, guint registered)
{
  if (announce_once (self, ANNOUNCE_FIXED))
    vyre_uri_src_warn_fixed_unavailable (GST_ELEMENT (self), e, registered,
        vyre_read_arena_n_blocks (self->arena),
        vyre_read_arena_block_bytes (self->arena));
}

/* Opens path for reading and learns its size.  FALSE after posting an
 * error (the descriptor is left for stop to close). */
static gboolean
open_file (GstVyreUriSrc * self, const gchar * path)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
   * below); cleared again for the reads. */
  self->fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (self->fd < 0) {
    vyre_uri_src_error_open (GST_ELEMENT (self), path, errno);
    return FALSE;
  }
  fcntl (self->fd, F_SETFL, fcntl (self->fd, F_GETFL) & ~O_NONBLOCK);
  struct stat st;
  if (fstat (self->fd, &st) != 0) {
    int e = errno;
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not get information on \"%s\": %s.", path, g_strerror (e)),
        ("fstat failed: %s. Fix: check the file system.", g_strerror (e)));
    return FALSE;
  }
  if (S_ISDIR (st.st_mode)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("\"%s\" is a directory: %s.", path, g_strerror (EISDIR)),
        ("vyreurisrc reads one file. Fix: set location to a file inside "
            "the directory."));
    return FALSE;
  }
  self->is_blockdev = S_ISBLK (st.st_mode);
  if (!S_ISREG (st.st_mode) && !self->is_blockdev) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("\"%s\" is not a regular file or block device.", path),
        ("It is a FIFO, socket or character device: vyreurisrc reads "
            "regular files and block devices at offsets. Fix: use filesrc or "
            "fdsrc for streams."));
    return FALSE;
  }
  guint64 size = (guint64) st.st_size;
  if (self->is_blockdev && ioctl (self->fd, BLKGETSIZE64, &size) != 0) {
    int e = errno;
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not get the size of block device \"%s\": %s.", path,
            g_strerror (e)), ("ioctl(BLKGETSIZE64) failed. Fix: check the "
            "device."));
    return FALSE;
  }
  /* The kernel makes procfs, sysfs and their kind up as they are read:
   * their stat size is 0 (/proc) or a page (/sys), never the bytes a read
   * returns.  Those, and regular files of size 0, are read to end of file,
   * as filesrc does. */
  self->pseudo_fs = vyre_pseudo_fs_name (self->fd);
  GST_OBJECT_LOCK (self);
  self->size = size;
  self->size_known = self->is_blockdev || (size > 0 && !self->pseudo_fs);
  self->eof_at = G_MAXUINT64;
  GST_OBJECT_UNLOCK (self);
  if (!self->size_known)
    GST_INFO_OBJECT (self, "%s: size unknown (stat size %" G_GUINT64_FORMAT
        "%s%s): reading to end of file", path, size, self->pseudo_fs ?
        ", on " : "", self->pseudo_fs ? self->pseudo_fs : "");
  /* A file whose first read fails (/proc/self/mem: EIO) fails the state
   * change here rather than in the streaming thread a moment later:
   * gst-launch-1.0 (1.22) loses an ERROR posted before its main loop runs
   * and then never exits (seen in 2 runs of 25). ESPIPE: a pseudo file
   * that only reads in order, read by the streaming thread as usual. */
  guint8 probe;
  if (size > 0 || self->pseudo_fs) {
    ssize_t n;
    do
      n = pread (self->fd, &probe, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != ESPIPE) {
      vyre_uri_src_error_read (GST_ELEMENT (self), path, 0, 0, 1, errno,
          "pread", self->pseudo_fs);
      return FALSE;
    }
  }
  return TRUE;
}

/* O_DIRECT, if the file system takes it; announced when it does not. */
static void
open_direct (GstVyreUriSrc * self, const gchar * path)
{
  int e = self->faults.direct_errno;
  if (e == 0) {
    self->dfd = open (path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    e = self->dfd < 0 ? errno : 0;
  }
  if (e != 0) {
    announce_direct_refused (self, path, e, "open(O_DIRECT)");
    return;
  }
  GST_OBJECT_LOCK (self);
  self->direct_active = TRUE;
  GST_OBJECT_UNLOCK (self);
  self->align = direct_alignment (self, path);
}

/* The io_uring reader, unless pread was asked for.  Returns the mode
 * reads start in (READ or PREAD), or NONE after posting an error. */
static ActiveMode
setup_reader (GstVyreUriSrc * self, guint depth, gboolean io_workers,
    GstVyreUriSrcIoMode io_mode)
{
  if (io_mode == GST_VYRE_URI_SRC_IO_PREAD)
    return MODE_PREAD;
  int e = self->faults.setup_errno;
  if (e == 0)
    self->reader = vyre_uring_reader_new (depth, &e);
  if (self->reader) {
    vyre_uring_reader_set_workers (self->reader, io_workers);
    if (self->faults.chunk)
      vyre_uring_reader_set_max_sqe_bytes (self->reader, self->faults.chunk);
    return MODE_READ;
  }
  if (io_mode != GST_VYRE_URI_SRC_IO_AUTO) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("io_uring is not available (%s) and io-mode=%s requires it.",
            g_strerror (e), io_mode == GST_VYRE_URI_SRC_IO_FIXED ?
            "fixed" : "read"),
        ("io_uring_setup failed: %s. Fix: set io-mode=auto to fall back "
            "to pread, or allow io_uring (seccomp profile, "
            "kernel.io_uring_disabled).", g_strerror (e)));
    return MODE_NONE;
  }
  if (announce_once (self, ANNOUNCE_URING))
    vyre_uri_src_warn_uring_unavailable (GST_ELEMENT (self), e);
  return MODE_PREAD;
}

/* Our own memory for reads of up to blocksize bytes, registered as fixed
 * buffers where the mode allows.  Returns the mode reads use (FIXED once
 * any block is registered), or NONE after posting an error. */
static ActiveMode
setup_arena (GstVyreUriSrc * self, ActiveMode mode, guint blocksize,
    guint depth, GstVyreUriSrcIoMode io_mode)
{
  gsize block_bytes;
  guint n_blocks;
  GST_OBJECT_LOCK (self);
  gboolean size_known = self->size_known;
  GST_OBJECT_UNLOCK (self);
  /* Blocks as large as a read will be: blocksize, or the whole file when
   * that is smaller (blocksize=1GiB on a 3 MB file maps 3 MB, not queue-depth
   * GiB).  A file of unknown size is read in pieces of at most the default
   * blocksize: what is there is typically small (procfs, sysfs). */
  guint64 file_size = size_known ? get_known_size (self) : 0;
  gsize read_len = size_known ? (gsize) MIN ((guint64) blocksize,
      MAX (file_size, 1)) : MIN (blocksize, DEFAULT_BLOCKSIZE);
  self->unknown_chunk = size_known ? blocksize : read_len;
  gsize align = self->direct_active ? self->align : 1;
  if (self->multi) {
    /* Several files: blocks for the largest read any of them takes, as
     * many as the reads in flight want (no file's size bounds them); files
     * of unknown size are read in pieces of that; O_DIRECT alignment is
     * learnt per file, a page fits every file system. */
    read_len = (gsize) MIN ((guint64) blocksize, MAX (file_size,
            MIN_TREE_READ));
    self->unknown_chunk = read_len;
    self->tree_read_len = read_len;
    file_size = 0;
    if (self->tree_direct)
      align = (gsize) sysconf (_SC_PAGESIZE);
  }
  /* Several files: room for the files read ahead too (setup_opener), in
   * blocks that are reused (fresh system memory per file costs a page
   * fault per page read).  The mapping is lazy: unused blocks cost
   * nothing. */
  guint plan_depth = depth;
  if (self->multi)
    plan_depth += (guint) CLAMP (READ_AHEAD_OWN_BYTES / read_len, 8, 1024);
  vyre_read_arena_plan (read_len, file_size, plan_depth, align, &block_bytes,
      &n_blocks);
  int e = 0;
  self->arena = vyre_read_arena_new (block_bytes, n_blocks, &e);
  if (self->arena == NULL) {
    gchar *sz = vyre_size_text ((guint64) block_bytes * n_blocks);
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Could not map %s for read buffers: %s.", sz, g_strerror (e)),
        ("mmap(%u blocks of %" G_GSIZE_FORMAT " bytes) failed: %s. Fix: "
            "lower blocksize or queue-depth.", n_blocks, block_bytes,
            g_strerror (e)));
    g_free (sz);
    return MODE_NONE;
  }
  if (mode != MODE_READ || io_mode == GST_VYRE_URI_SRC_IO_READ)
    return mode;

  e = self->faults.register_errno;
  if (e == 0)
    e = vyre_read_arena_register (self->arena, self->reader);
  guint registered = vyre_read_arena_n_registered (self->arena);
  if (e != 0 && io_mode == GST_VYRE_URI_SRC_IO_FIXED && registered == 0) {
    gchar *limit = vyre_memlock_text ();
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not register read buffers with io_uring (%s) and "
            "io-mode=fixed requires them.", g_strerror (e)),
        ("RLIMIT_MEMLOCK is %s. Fix: %s; or set io-mode=auto.", limit,
            e == ENOMEM ? "raise it (ulimit -l unlimited, "
            "LimitMEMLOCK=infinity) or lower blocksize/queue-depth" :
            "use memory the kernel can pin"));
    g_free (limit);
    return MODE_NONE;
  }
  if (e != 0)
    announce_fixed_unavailable (self, e, registered);
  return registered > 0 ? MODE_FIXED : MODE_READ;
}

/* Lists the files to read (a walk of the directory at location, or the
 * files-from list), names every entry left out, and sizes the reads for the
 * largest file.  FALSE after posting an error. */
static gboolean
list_files (GstVyreUriSrc * self, const gchar * location,
    const gchar * files_from, const VyreWalkOptions * opts)
{
  GError *err = NULL;
  VyreWalkAhead *ahead = self->walk_ahead;
  self->walk_ahead = NULL;
  if (ahead && !files_from && vyre_walk_ahead_is_for (ahead, location, opts))
    self->walk = vyre_walk_ahead_finish (ahead, &err);
  else {
    vyre_walk_ahead_free (ahead);
    self->walk = files_from ? vyre_walk_files_from (files_from, opts, &err) :
        vyre_walk_tree (location, opts, &err);
  }
  if (self->walk == NULL) {
    if (files_from)
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not read the list of files \"%s\": %s", files_from,
              err->message), ("files-from names a file of paths, one a line "
              "or NUL-separated. Fix: check the path, or use files-from=- to "
              "read the list from standard input."));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", err->message),
          ("location names a directory to walk, or a file."));
    g_clear_error (&err);
    return FALSE;
  }
  for (guint i = 0; i < self->walk->skips->len; i++) {
    VyreWalkSkip *sk = g_ptr_array_index (self->walk->skips, i);
    gchar *text = sk->error ? g_strdup_printf ("%s: %s",
        vyre_walk_skip_reason_text (sk->reason), g_strerror (sk->error)) :
        g_strdup (vyre_walk_skip_reason_text (sk->reason));
    gboolean go_on = file_skipped (self, sk->path,
        vyre_walk_skip_reason_nick (sk->reason), text, sk->error, 0,
        vyre_walk_skip_is_trouble (sk->reason));
    g_free (text);
    if (!go_on)
      return FALSE;
  }
  guint64 largest = 0;
  for (guint i = 0; i < self->walk->files->len; i++) {
    VyreWalkFile *f = g_ptr_array_index (self->walk->files, i);
    largest = MAX (largest, f->size);
  }
  /* What setup_arena plans for; each file sets its own when it opens. */
  GST_OBJECT_LOCK (self);
  self->files_total = self->walk->files->len + self->walk->skips->len;
  self->size = largest;
  self->size_known = TRUE;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "%s: %u files to read (largest %" G_GUINT64_FORMAT
      " bytes), %u left out", files_from ? files_from : location,
      self->walk->files->len, largest, self->walk->skips->len);
  return TRUE;
}

/* Memory for a file the opener reads ahead (VyreFileOpenerAllocFunc;
 * on the streaming thread, in the list's order): downstream's when it
 * offers an allocator, else our arena's, exactly the file's bytes, so
 * the read lands where it is scanned.  Never system memory in place of
 * either (NULL: the file is read later like a large one, which may wait
 * for downstream's block). */
static gpointer
read_ahead_alloc (guint64 size, guint8 ** data, gpointer user_data)
{
  GstVyreUriSrc *self = user_data;
  GstAllocationParams params;
  gst_allocation_params_init (&params);
  GstAllocator *alloc = self->down_alloc && !self->down_refused ?
      self->down_alloc : vyre_read_arena_get_allocator (self->arena);
  GstMemory *mem = gst_allocator_alloc (alloc, (gsize) size, &params);
  if (mem && !in_downstream_arena (alloc, mem))
    g_clear_pointer (&mem, gst_memory_unref);
  if (mem == NULL)
    return NULL;
  ReadAhead *ra = g_new0 (ReadAhead, 1);
  ra->buf = gst_buffer_new ();
  gst_buffer_append_memory (ra->buf, mem);
  if (!gst_buffer_map (ra->buf, &ra->map, GST_MAP_WRITE)) {
    gst_buffer_unref (ra->buf);
    g_free (ra);
    return NULL;
  }
  *data = ra->map.data;
  return ra;
}

static void
read_ahead_free (gpointer mem, gpointer user_data)
{
  ReadAhead *ra = mem;
  (void) user_data;
  if (ra == NULL)
    return;
  gst_buffer_unmap (ra->buf, &ra->map);
  gst_buffer_unref (ra->buf);
  g_clear_pointer (&ra->path, g_ref_string_release);
  gst_clear_event (&ra->tag);
  g_free (ra);
}

static GstEvent *
location_tag_new (const gchar * path)
{
  gchar *uri = gst_filename_to_uri (path, NULL);
  if (uri == NULL)
    return NULL;
  GstTagList *tags = gst_tag_list_new (GST_TAG_LOCATION, uri, NULL);
  g_free (uri);
  return gst_event_new_tag (tags);
}

/* A file read whole (VyreFileOpenerDoneFunc, on an opener worker): its
 * path and location tag made here, not on the streaming thread, which
 * with many small files does little else per file. */
static void
read_ahead_done (gpointer mem, const gchar * path, gpointer user_data)
{
  ReadAhead *ra = mem;
  GstVyreUriSrc *self = user_data;
  ra->path = g_ref_string_new (path);
  if (self->tree_file_tags)     /* set before the opener's workers start */
    ra->tag = location_tag_new (path);
}

/* The opener of the listed files: through io_uring unless reads avoid it
 * (pread).  root: the walked directory, NULL for a list.  FALSE after
 * posting an error. */
static gboolean
setup_opener (GstVyreUriSrc * self, const gchar * root, ActiveMode mode,
    GstVyreUriSrcIoMode io_mode)
{
  /* Opening and sizing through io_uring hands every STATX and OPENAT2 to
   * a kernel worker: that hides a cold disk's latency, but a page-cached
   * tree opens faster with plain system calls (30,000 files: 1.61 -> 1.19
   * s on the development machine, docs/benchmarks.md "A tree").  direct
   * says the data is cold. */
  VyreFileOpenerOptions oo = {
    .follow_symlinks = self->tree_follow_symlinks,
    .use_uring = mode != MODE_PREAD && self->tree_direct,
    .max_ahead = self->faults.open_ahead,
  };
  /* Page-cached, a tree's time is system calls per file: open, size,
   * check, read, close (30,000 files: one thread at 100%, the cores
   * beside it idle).  Workers on the other cores open the files ahead
   * and read the small ones (one buffer: up to tree_read_len) whole into
   * their final memory, handed back in order (vyre-file-opener.h).  Not
   * with io-mode=fixed or read (they insist on io_uring reads), nor when
   * a test injects read faults (those act on the io_uring reads). */
  guint cores = g_get_num_processors ();
  if (!oo.use_uring && cores > 1)
    oo.threads = MIN (cores, MAX_OPEN_THREADS);
  if (oo.threads > 0 && !self->tree_direct &&
      (io_mode == GST_VYRE_URI_SRC_IO_AUTO ||
          io_mode == GST_VYRE_URI_SRC_IO_PREAD) &&
      !self->faults.read_errno && !self->faults.chunk && !self->faults.stall) {
    oo.read_max = self->tree_read_len;
    oo.alloc = read_ahead_alloc;
    oo.free_mem = read_ahead_free;
    oo.read_done = read_ahead_done;
    oo.alloc_data = self;
    oo.read_ahead_bytes = READ_AHEAD_OWN_BYTES;
  }
  int uring_err = 0;
  GError *err = NULL;
  self->opener = vyre_file_opener_new (root, self->walk->files, &oo,
      &uring_err, &err);
  if (self->opener == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", err->message),
        ("location names a directory to walk."));
    g_clear_error (&err);
    return FALSE;
  }
  VyreFileOpenerStats os;
  vyre_file_opener_get_stats (self->opener, &os);
  if (uring_err != 0)
    GST_INFO_OBJECT (self, "files are opened with system calls: io_uring "
        "has no OPENAT2/STATX/CLOSE here (%s)", g_strerror (uring_err));
  GST_INFO_OBJECT (self, "up to %u files opened ahead%s, %u worker threads, "
      "files up to %" G_GUINT64_FORMAT " bytes read ahead", os.ahead_limit,
      oo.use_uring && uring_err == 0 ? ", through io_uring" : "", os.threads,
      oo.read_max);
  return TRUE;
}

static gboolean
gst_vyre_uri_src_start (GstBaseSrc * bsrc)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  gchar *path = g_strdup (self->location);
  guint depth = self->queue_depth;
  gboolean io_workers = self->io_workers;
  gboolean direct = self->direct;
  GstVyreUriSrcIoMode io_mode = self->io_mode;
  gchar *files_from = g_strdup (self->files_from);
  VyreWalkOptions opts = self->walk_opts;
  gchar **exclude = g_strdupv (self->exclude);
  opts.exclude = (const gchar * const *) exclude;
  self->tree_follow_symlinks = opts.follow_symlinks;
  self->tree_skip_binary = self->skip_binary;
  self->tree_strict = self->strict;
  self->tree_file_tags = self->file_tags;
  self->tree_direct = direct;
  self->direct_active = FALSE;
  self->down_refused = FALSE;
  GST_OBJECT_UNLOCK (self);
  guint blocksize = gst_base_src_get_blocksize (bsrc);

  self->fd = self->dfd = -1;
  self->files_pushed = 0;
  self->stream_pos = self->file_base = self->file_pos = 0;
  self->file_index = 0;
  self->file_started = FALSE;
  self->file_complete = FALSE;
  self->deferred_flow = GST_FLOW_OK;
  if (files_from && *files_from == '\0')
    g_clear_pointer (&files_from, g_free);
  struct stat st;
  self->multi = files_from != NULL || (path && *path && stat (path, &st) == 0
      && S_ISDIR (st.st_mode));
  if (files_from && path && *path) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Both location (\"%s\") and files-from (\"%s\") are set.", path,
            files_from), ("vyreurisrc reads a file, a directory or a list "
            "of files. Fix: set only one of them."));
    goto failed;
  }
  if (self->multi) {
    parse_faults (self, &self->faults);
    self->align = 1;
    ActiveMode mode = MODE_NONE;
    if (list_files (self, path, files_from, &opts)) {
      mode = setup_reader (self, depth, io_workers, io_mode);
      if (mode != MODE_NONE)
        mode = setup_arena (self, mode, blocksize, depth, io_mode);
      if (mode != MODE_NONE && !setup_opener (self, files_from ? NULL : path,
              mode, io_mode))
        mode = MODE_NONE;
    }
    if (mode == MODE_NONE)
      goto failed;
    g_strfreev (exclude);
    g_free (files_from);
    return start_reads (self, mode, depth, path);
  }
  g_strfreev (exclude);
  g_free (files_from);

  if (path == NULL || *path == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for reading."),
        ("The location property is empty. Fix: set location=PATH (a file or "
            "a directory), a file:// URI, or files-from=LIST."));
    g_free (path);
    return FALSE;
  }
  parse_faults (self, &self->faults);
  self->fd = self->dfd = -1;
  self->align = 1;

  ActiveMode mode = MODE_NONE;
  if (open_file (self, path)) {
    if (direct)
      open_direct (self, path);
    mode = setup_reader (self, depth, io_workers, io_mode);
    if (mode != MODE_NONE)
      mode = setup_arena (self, mode, blocksize, depth, io_mode);
  }
  if (mode == MODE_NONE) {
    g_free (path);
    gst_vyre_uri_src_stop (bsrc);
    return FALSE;
  }
  self->file_path = g_ref_string_new (path);
  return start_reads (self, mode, depth, path);

failed:
  g_strfreev (exclude);
  g_free (files_from);
  g_free (path);
  gst_vyre_uri_src_stop (bsrc);
  return FALSE;
}

/* The rest of start once the reader and the arena are set up; takes
 * path. */
static gboolean
start_reads (GstVyreUriSrc * self, ActiveMode mode, guint depth, gchar * path)
{
  GST_OBJECT_LOCK (self);
  self->mode = mode;
  self->arena_bytes = (guint64) vyre_read_arena_n_blocks (self->arena) *
      vyre_read_arena_block_bytes (self->arena);
  self->pinned_bytes = vyre_read_arena_pinned_bytes (self->arena);
  GST_OBJECT_UNLOCK (self);
  self->depth = depth;
  g_queue_init (&self->pending);
  self->next_offset = 0;
  self->chunk = self->unknown_chunk;
  g_atomic_int_set (&self->unlocked, 0);

  GST_INFO_OBJECT (self, "%s: %" G_GUINT64_FORMAT " bytes%s, mode %s, "
      "%u blocks of %" G_GSIZE_FORMAT " (%u registered), queue-depth %u%s",
      path ? path : "(files-from)", get_known_size (self),
      self->multi ? " (largest file)" : "", mode_names[mode],
      vyre_read_arena_n_blocks (self->arena),
      vyre_read_arena_block_bytes (self->arena),
      vyre_read_arena_n_registered (self->arena), depth,
      self->direct_active ? ", O_DIRECT" : "");
  g_free (path);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Reads in flight                                                     */

static void
pending_free (GstVyreUriSrc * self, Pending * p)
{
  if (p->id >= 0 && self->reader)
    vyre_uring_reader_release (self->reader, p->id);
  gst_buffer_unmap (p->buf, &p->map);
  gst_buffer_unref (p->buf);
  g_free (p);
}

/* Cancels and reaps every read in flight, then lets go of its buffer: no
 * buffer returns to its allocator while the kernel may still write it. */
static void
drop_pending (GstVyreUriSrc * self)
{
  if (g_queue_is_empty (&self->pending))
    return;
  guint cancelled = 0;
  if (self->reader)
    cancelled = vyre_uring_reader_cancel_all (self->reader);
  guint n = g_queue_get_length (&self->pending);
  Pending *p;
  while ((p = g_queue_pop_head (&self->pending)))
    pending_free (self, p);
  GST_DEBUG_OBJECT (self, "dropped %u reads (%u cancelled in flight)", n,
      cancelled);
  GST_OBJECT_LOCK (self);
  self->stats.cancelled += cancelled;
  self->in_flight = 0;
  GST_OBJECT_UNLOCK (self);
}

static void
pread_read (GstVyreUriSrc * self, int fd, Pending * p)
{
  gsize max = self->faults.chunk ? self->faults.chunk : G_MAXSSIZE;
  while (p->done < p->need) {
    gsize n = MIN (p->read_len - p->done, max);
    ssize_t r = pread (fd, p->map.data + p->done, n,
        (off_t) (p->read_offset + p->done));
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      p->error = errno;
      return;
    }
    if (r == 0) {
      p->eof = TRUE;
      return;
    }
    p->done += (gsize) r;
  }
}

/* TRUE if mem is a block of downstream's GPU-readable arena (FALSE for
 * the system memory its allocator falls back to when all blocks are busy). */
static gboolean
in_downstream_arena (GstAllocator * alloc, GstMemory * mem)
{
  guint64 off;
  return !GST_IS_VYRE_ALLOCATOR (alloc) ||
      gst_vyre_memory_arena_offset (mem, GST_VYRE_ALLOCATOR (alloc), &off);
}

/* Memory for a read from downstream's allocator.  Its GPU-readable blocks
 * are few (one per vyrescan ring slot): a read-ahead never takes system
 * memory instead (it is deferred: NULL, *flow OK), and the read create()
 * needs now waits up to DOWNSTREAM_WAIT_MS for downstream to return a
 * block (woken when one returns, or by unlock) before it settles for
 * system memory, which downstream then copies. */
static GstMemory *
alloc_downstream (GstVyreUriSrc * self, gsize size, gboolean is_head,
    GstFlowReturn * flow)
{
  GstAllocator *alloc = self->down_alloc;
  GstAllocationParams params;
  gst_allocation_params_init (&params);
  gint64 deadline = g_get_monotonic_time () +
      DOWNSTREAM_WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean counted = FALSE;
  for (;;) {
    GstMemory *mem = gst_allocator_alloc (alloc, size, &params);
    if (mem == NULL || in_downstream_arena (alloc, mem))
      return mem;
    if (size > gst_vyre_allocator_block_size (GST_VYRE_ALLOCATOR (alloc)))
      return mem;               /* will never fit: blocksize warning given */
    if (!is_head) {
      gst_memory_unref (mem);
      *flow = GST_FLOW_OK;
      return NULL;
    }
    if (g_get_monotonic_time () >= deadline)
      return mem;
    gst_memory_unref (mem);
    if (!counted) {
      GST_OBJECT_LOCK (self);
      self->stats.downstream_waits++;
      GST_OBJECT_UNLOCK (self);
      counted = TRUE;
    }
    gst_vyre_allocator_wait_block (GST_VYRE_ALLOCATOR (alloc), deadline,
        &self->unlocked);
    if (g_atomic_int_get (&self->unlocked)) {
      *flow = GST_FLOW_FLUSHING;
      return NULL;
    }
  }
}

/* Blocks are pinned as reads first land in them: io-stats follows, and a
 * block the kernel refused (RLIMIT_MEMLOCK) is announced once. */
static void
note_pinning (GstVyreUriSrc * self)
{
  int e = vyre_read_arena_take_pin_error (self->arena);
  if (e != 0)
    announce_fixed_unavailable (self, e,
        (guint) (vyre_read_arena_pinned_bytes (self->arena) /
            vyre_read_arena_block_bytes (self->arena)));
  GST_OBJECT_LOCK (self);
  self->pinned_bytes = vyre_read_arena_pinned_bytes (self->arena);
  GST_OBJECT_UNLOCK (self);
}

/* Allocates the buffer for one read of [offset, offset + len) and issues
 * it (pread: performs it).  NULL with *flow ERROR after posting an error,
 * FLUSHING when unlocked, OK when a read-ahead was deferred. */
static Pending *
issue_read (GstVyreUriSrc * self, guint64 offset, gsize len,
    gboolean is_head, GstFlowReturn * flow)
{
  Pending *p = g_new0 (Pending, 1);
  p->id = -1;
  p->offset = offset;
  p->len = len;
  p->read_offset = offset;
  p->read_len = len;
  p->direct = self->direct_active;
  if (p->direct) {
    guint64 a = self->align;
    p->read_offset = offset / a * a;
    p->read_len = (gsize) ((offset + len + a - 1) / a * a - p->read_offset);
  }
  p->need = (gsize) (offset + len - p->read_offset);

  gboolean use_down = self->down_alloc && !self->down_refused;
  GstAllocator *alloc = use_down ? self->down_alloc :
      vyre_read_arena_get_allocator (self->arena);
  GstMemory *mem;
  *flow = GST_FLOW_ERROR;
  if (use_down) {
    mem = alloc_downstream (self, p->read_len, is_head, flow);
    if (mem == NULL && *flow != GST_FLOW_ERROR) {
      g_free (p);
      return NULL;
    }
  } else {
    GstAllocationParams params;
    gst_allocation_params_init (&params);
    mem = gst_allocator_alloc (alloc, p->read_len, &params);
  }
  if (mem == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Could not allocate a %" G_GSIZE_FORMAT "-byte read buffer.",
            p->read_len), ("%s allocator %" GST_PTR_FORMAT " failed. Fix: "
            "lower blocksize.", use_down ? "downstream's" : "our", alloc));
    g_free (p);
    return NULL;
  }
  p->downstream = use_down;
  p->buf = gst_buffer_new ();
  gst_buffer_append_memory (p->buf, mem);
  if (!gst_buffer_map (p->buf, &p->map, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("Could not map a read buffer for writing."),
        ("Memory of %" GST_PTR_FORMAT " is not writable. Fix: report this.",
            alloc));
    gst_buffer_unref (p->buf);
    g_free (p);
    return NULL;
  }

  /* Fixed buffer: a registered block of our own arena. */
  int buf_index = -1;
  if (!use_down) {
    gboolean in_arena;
    if (self->mode == MODE_FIXED) {
      buf_index = vyre_read_arena_fixed_index (self->arena, mem, &in_arena);
      note_pinning (self);
    } else {
      /* Plain reads: a block is never pinned for them. */
      guint64 off;
      in_arena = gst_vyre_memory_arena_offset (mem,
          GST_VYRE_ALLOCATOR (alloc), &off);
    }
    if (!in_arena) {
      GST_OBJECT_LOCK (self);
      self->stats.arena_misses++;
      GST_OBJECT_UNLOCK (self);
    }
  } else if (!in_downstream_arena (alloc, mem)) {
    /* vyrescan's blocks are all in use: this buffer will be copied. */
    GST_CAT_DEBUG_OBJECT (GST_CAT_PERFORMANCE, self, "downstream arena full: "
        "%" G_GSIZE_FORMAT " bytes read into system memory", p->read_len);
    GST_OBJECT_LOCK (self);
    self->stats.arena_misses++;
    GST_OBJECT_UNLOCK (self);
  }
  p->fixed = buf_index >= 0;

  /* Direct I/O needs aligned memory too; an unaligned buffer (system
   * memory fallback) is read through the page cache instead. */
  if (p->direct && ((guintptr) p->map.data & (self->align - 1)) != 0)
    p->direct = FALSE;
  int fd = p->direct ? self->dfd : self->fd;

  if (self->mode == MODE_PREAD || self->reader == NULL) {
    pread_read (self, fd, p);
    return p;
  }
  p->id = vyre_uring_reader_submit (self->reader, fd, p->read_offset,
      p->map.data, p->read_len, p->need, buf_index);
  if (p->id < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ,
        ("Could not queue a read: %s.", g_strerror (-p->id)),
        ("vyre_uring_reader_submit failed: %s. Fix: report this.",
            g_strerror (-p->id)));
    p->id = -1;
    gst_buffer_unmap (p->buf, &p->map);
    gst_buffer_unref (p->buf);
    g_free (p);
    return NULL;
  }
  return p;
}

/* Keeps queue-depth reads in flight from next_offset on.  need_head: the
 * first read, when none is queued, is the one create() returns now (it may
 * wait for downstream memory; read-ahead never does).  ERROR after an error
 * was posted, FLUSHING when unlocked. */
static GstFlowReturn
top_up (GstVyreUriSrc * self, gboolean need_head)
{
  guint64 size = stream_end (self);
  /* No read-ahead without io_uring: pread reads when asked. */
  guint depth = self->reader ? self->depth : 1;
  while (g_queue_get_length (&self->pending) < depth &&
      self->next_offset < size) {
    gsize len = (gsize) MIN ((guint64) self->chunk, size - self->next_offset);
    GstFlowReturn flow;
    Pending *p = issue_read (self, self->next_offset, len,
        need_head && g_queue_is_empty (&self->pending), &flow);
    if (p == NULL) {
      if (flow != GST_FLOW_OK)
        return flow;
      break;                    /* read-ahead deferred: no free block */
    }
    g_queue_push_tail (&self->pending, p);
    self->next_offset += len;
  }
  guint n = g_queue_get_length (&self->pending);
  GST_OBJECT_LOCK (self);
  self->stats.max_in_flight = MAX (self->stats.max_in_flight, n);
  self->in_flight = n;
  GST_OBJECT_UNLOCK (self);
  if (self->reader) {
    int ret = vyre_uring_reader_flush (self->reader);
    if (ret < 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Could not submit reads to io_uring: %s.", g_strerror (-ret)),
          ("io_uring_enter failed: %s. Fix: report this; io-mode=pread "
              "avoids io_uring.", g_strerror (-ret)));
      return GST_FLOW_ERROR;
    }
  }
  return GST_FLOW_OK;
}

typedef enum
{
  READ_OK,
  READ_ERROR,
  READ_RETRY,                   /* the configuration changed: read it again */
  READ_FLUSHING,
  READ_END,                     /* size unknown: end of file came; eof_at says where */
  READ_FILE_TROUBLE,            /* one file of several failed: self->trouble_* */
} ReadResult;

/* Why the file being read (one of several) cannot be read further; text
 * is taken. */
static void
set_trouble (GstVyreUriSrc * self, const gchar * reason, int err, gchar * text)
{
  self->trouble_reason = reason;
  self->trouble_errno = err;
  g_free (self->trouble_text);
  self->trouble_text = text;
}

/* Waits for the head read and checks it. */
static ReadResult
complete_head (GstVyreUriSrc * self, Pending * p)
{
  gsize done = p->done;
  int err = p->error;
  gboolean eof = p->eof;

  if (p->id >= 0) {
    for (;;) {
      if (g_atomic_int_get (&self->unlocked))
        return READ_FLUSHING;
      if (self->faults.stall) {
        g_usleep (WAIT_SLICE_MS * 1000);
        continue;
      }
      int ret = vyre_uring_reader_wait (self->reader, p->id, WAIT_SLICE_MS);
      if (ret == 0)
        break;
      if (ret != -ETIME) {
        gchar *path = current_path (self);
        GST_ELEMENT_ERROR (self, RESOURCE, READ,
            ("Could not wait for reads of \"%s\": %s.", path,
                g_strerror (-ret)),
            ("io_uring_enter failed: %s. Fix: report this; io-mode=pread "
                "avoids io_uring.", g_strerror (-ret)));
        g_free (path);
        return READ_ERROR;
      }
    }
    vyre_uring_reader_result (self->reader, p->id, &done, &err, &eof);
  }

  /* Injected failure, once, for the read covering read_at (a stream
   * offset: with several files, counted across them). */
  guint64 at = self->file_base + p->offset;
  if (self->faults.read_errno && (!self->faults.read_at_set ||
          (self->faults.read_at >= at && self->faults.read_at < at + p->len))) {
    err = self->faults.read_errno;
    self->faults.read_errno = 0;
  }

  if (err != 0) {
    gchar *path = current_path (self);
    ReadResult res = READ_ERROR;
    if (err == EINVAL && p->direct) {
      announce_direct_refused (self, path, err, "a read with O_DIRECT");
      GST_OBJECT_LOCK (self);
      self->direct_active = FALSE;
      GST_OBJECT_UNLOCK (self);
      res = READ_RETRY;
    } else if (err == EFAULT && p->downstream) {
      if (announce_once (self, ANNOUNCE_DOWNSTREAM))
        GST_ELEMENT_WARNING (self, RESOURCE, READ,
            ("Reads into downstream's memory fail (%s): reading into our "
                "own memory instead, downstream copies it.", g_strerror (err)),
            ("The kernel could not write %" GST_PTR_FORMAT "'s memory. Fix: "
                "nothing to do here; the copy costs throughput.",
                self->down_alloc));
      GST_OBJECT_LOCK (self);
      self->down_refused = TRUE;
      GST_OBJECT_UNLOCK (self);
      res = READ_RETRY;
    } else if ((err == EFAULT || err == EOPNOTSUPP) && p->fixed) {
      announce_fixed_unavailable (self, err, 0);
      GST_OBJECT_LOCK (self);
      self->mode = MODE_READ;
      GST_OBJECT_UNLOCK (self);
      res = READ_RETRY;
    } else if (self->multi) {
      /* One file of several: it is skipped, the scan goes on. */
      set_trouble (self, "read-error", err, g_strdup_printf ("a read at "
              "byte %" G_GUINT64_FORMAT " failed: %s", p->read_offset,
              g_strerror (err)));
      res = READ_FILE_TROUBLE;
    } else {
      vyre_uri_src_error_read (GST_ELEMENT (self), path, p->offset,
          p->read_offset, p->read_len, err, self->mode == MODE_PREAD ?
          "pread" : "io_uring read", self->pseudo_fs);
    }
    g_free (path);
    return res;
  }
  if (done < p->need) {
    guint64 end = p->read_offset + done;
    GST_OBJECT_LOCK (self);
    gboolean size_known = self->size_known;
    if (!size_known)
      self->eof_at = end;
    GST_OBJECT_UNLOCK (self);
    if (!size_known)
      return READ_END;
    if (self->multi) {
      set_trouble (self, "shrank", 0, g_strdup_printf ("it shrank while it "
              "was read: end of file at byte %" G_GUINT64_FORMAT " of the %"
              G_GUINT64_FORMAT " it had when opened", end,
              get_known_size (self)));
      return READ_FILE_TROUBLE;
    }
    gchar *path = current_path (self);
    vyre_uri_src_error_shrank (GST_ELEMENT (self), path,
        get_known_size (self), end, p->read_offset, p->need, done, eof);
    g_free (path);
    return READ_ERROR;
  }
  return READ_OK;
}

/* Copies the running reader's counters where io-stats reads them. */
static void
snapshot_ring_stats (GstVyreUriSrc * self)
{
  if (self->opener) {
    VyreFileOpenerStats os;
    vyre_file_opener_get_stats (self->opener, &os);
    GST_OBJECT_LOCK (self);
    self->stats.opener = os;
    GST_OBJECT_UNLOCK (self);
  }
  if (self->reader == NULL)
    return;
  VyreUringReaderStats rs;
  vyre_uring_reader_get_stats (self->reader, &rs);
  GST_OBJECT_LOCK (self);
  self->stats.ring_live = rs;
  GST_OBJECT_UNLOCK (self);
}

static GstFlowReturn
do_create (GstVyreUriSrc * self, guint64 offset,
    guint length, GstBuffer ** ret);

/* ------------------------------------------------------------------ */
/* Several files, one after another                                    */

/* Names a file whose bytes are not (all) in the stream on the bus and
 * counts it.  FALSE, after posting an error, when strict is set and the
 * file itself was at fault. */
static gboolean
file_skipped (GstVyreUriSrc * self, const gchar * path, const gchar * reason,
    const gchar * description, int err, guint64 bytes_read, gboolean trouble)
{
  GST_OBJECT_LOCK (self);
  self->stats.files_skipped++;
  GST_OBJECT_UNLOCK (self);
  vyre_uri_src_post_file_skipped (GST_ELEMENT (self), path, reason,
      description, err, bytes_read, trouble);
  if (trouble && self->tree_strict) {
    vyre_uri_src_error_file_trouble (GST_ELEMENT (self), path, description);
    return FALSE;
  }
  return TRUE;
}

/* Lets go of the file being read: its reads in flight, its descriptors. */
static void
close_file (GstVyreUriSrc * self)
{
  drop_pending (self);
  if (self->dfd >= 0)
    close (self->dfd);
  if (self->opener)
    vyre_file_opener_close (self->opener, self->fd);
  else if (self->fd >= 0)
    close (self->fd);
  self->fd = self->dfd = -1;
  g_clear_pointer (&self->file_path, g_ref_string_release);
  gst_clear_event (&self->file_tag);
  g_clear_pointer (&self->trouble_text, g_free);
  read_ahead_free (self->ahead, NULL);
  self->ahead = NULL;
}

/* Takes the next listed file the opener opened (vyre-file-opener.h: by
 * the walked directory's descriptor, checked to be the regular file that
 * was listed) for the reads to come; the ones it could not open are named
 * and skipped.  EOS when the list is done, ERROR when strict stopped it or
 * io_uring failed, FLUSHING when unlocked; with no_wait, FLOW_WOULD_BLOCK
 * when the next file is not ready yet. */
static GstFlowReturn
open_next_file (GstVyreUriSrc * self, gboolean no_wait)
{
  GPtrArray *files = self->walk->files;
  for (;;) {
    VyreOpenedFile of;
    int ret = vyre_file_opener_next (self->opener, &of,
        no_wait ? 0 : WAIT_SLICE_MS);
    if (ret == -ETIME) {
      if (g_atomic_int_get (&self->unlocked))
        return GST_FLOW_FLUSHING;
      if (no_wait)
        return FLOW_WOULD_BLOCK;
      continue;
    }
    if (ret == 0)
      return GST_FLOW_EOS;
    if (ret < 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not open the listed files: io_uring failed (%s).",
              g_strerror (-ret)), ("io_uring_enter failed: %s. Fix: report "
              "this; io-mode=pread avoids io_uring.", g_strerror (-ret)));
      return GST_FLOW_ERROR;
    }
    VyreWalkFile *f = g_ptr_array_index (files, of.index);
    if (of.fd < 0 && !of.read_whole) {
      gboolean go_on = file_skipped (self, f->path, of.reason, of.text,
          of.error, 0, TRUE);
      g_free (of.text);
      if (!go_on)
        return GST_FLOW_ERROR;
      continue;
    }
    self->fd = of.fd;
    self->is_blockdev = FALSE;
    self->pseudo_fs = of.pseudo_fs;
    self->ahead = of.mem;
    self->ahead_done = of.read_done;
    self->ahead_error = of.read_error;
    GST_OBJECT_LOCK (self);
    self->size = of.size;
    self->size_known = of.size > 0 && !self->pseudo_fs;
    self->eof_at = G_MAXUINT64;
    self->direct_active = FALSE;
    GST_OBJECT_UNLOCK (self);
    self->align = 1;
    if (self->tree_direct)
      open_direct (self, f->path);
    ReadAhead *ra = of.mem;
    if (ra && ra->path) {
      self->file_path = g_steal_pointer (&ra->path);
      self->file_tag = g_steal_pointer (&ra->tag);
    } else {
      self->file_path = g_ref_string_new (f->path);
    }
    self->file_base = self->stream_pos;
    self->file_pos = 0;
    self->file_started = FALSE;
    GST_DEBUG_OBJECT (self, "file %u/%u: %s, %" G_GUINT64_FORMAT " bytes",
        of.index + 1, files->len, f->path, of.size);
    return GST_FLOW_OK;
  }
}

static gboolean
has_nul_byte (GstBuffer * buf)
{
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return FALSE;
  gboolean nul = memchr (map.data, '\0', map.size) != NULL;
  gst_buffer_unmap (buf, &map);
  return nul;
}

/* With file-tags, a sticky tag event naming the file, pushed before its
 * first buffer: queued with GstBaseSrc's pending events (pushed after the
 * segment, before the buffer create() returns).  GstBaseSrc's send_event
 * directly, not gst_element_send_event, which takes the state lock a
 * state change may hold while it waits for this thread.  GST_TAG_LOCATION
 * is a URI by its definition: file://, percent-encoded, so names that are
 * not UTF-8 stay exact. */
static void
queue_location_tag (GstVyreUriSrc * self)
{
  if (!self->tree_file_tags)
    return;
  GstEvent *tag = self->file_tag ? g_steal_pointer (&self->file_tag) :
      location_tag_new (self->file_path);
  if (tag)
    GST_ELEMENT_CLASS (parent_class)->send_event (GST_ELEMENT (self), tag);
}

/* The buffer of a file the opener read ahead whole (self->ahead), as
 * do_create would have read it: one buffer, or the same trouble. */
static GstFlowReturn
take_read_ahead (GstVyreUriSrc * self, guint length, GstBuffer ** ret)
{
  ReadAhead *ra = self->ahead;
  self->ahead = NULL;
  guint64 size = get_known_size (self);
  if (self->ahead_error == EFAULT && self->down_alloc && !self->down_refused) {
    /* The kernel could not write downstream's memory: as complete_head
     * does, once announced, our own memory from now on; this file is read
     * again the usual way (blocking reads: O_NONBLOCK off). */
    if (announce_once (self, ANNOUNCE_DOWNSTREAM))
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("Reads into downstream's memory fail (%s): reading into our "
              "own memory instead, downstream copies it.",
              g_strerror (EFAULT)), ("The kernel could not write %"
              GST_PTR_FORMAT "'s memory. Fix: nothing to do here; the copy "
              "costs throughput.", self->down_alloc));
    GST_OBJECT_LOCK (self);
    self->down_refused = TRUE;
    GST_OBJECT_UNLOCK (self);
    read_ahead_free (ra, NULL);
    fcntl (self->fd, F_SETFL, fcntl (self->fd, F_GETFL) & ~O_NONBLOCK);
    return do_create (self, self->file_pos, length, ret);
  }
  if (self->ahead_error != 0) {
    set_trouble (self, "read-error", self->ahead_error, g_strdup_printf ("a "
            "read at byte 0 failed: %s", g_strerror (self->ahead_error)));
    read_ahead_free (ra, NULL);
    return FLOW_FILE_TROUBLE;
  }
  if (self->ahead_done < size) {
    set_trouble (self, "shrank", 0, g_strdup_printf ("it shrank while it "
            "was read: end of file at byte %" G_GUINT64_FORMAT " of the %"
            G_GUINT64_FORMAT " it had when opened", self->ahead_done, size));
    read_ahead_free (ra, NULL);
    return FLOW_FILE_TROUBLE;
  }
  gst_buffer_unmap (ra->buf, &ra->map);
  *ret = ra->buf;
  g_free (ra);
  GST_OBJECT_LOCK (self);
  self->stats.buffers++;
  self->stats.bytes += size;
  self->stats.reads_pread++;
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;
}

/* The next buffer of the files' concatenation: of the file being read,
 * else of the next one that can be read.  A buffer never holds bytes of
 * two files; a file's first buffer is DISCONT (and follows a tag event
 * naming it, with file-tags).  Files that cannot be read, or stop being
 * readable, are named, counted and skipped (an error with strict). */
static GstFlowReturn
create_from_files (GstVyreUriSrc * self, guint length, GstBuffer ** ret,
    gboolean no_wait)
{
  for (;;) {
    if (self->file_path == NULL) {      /* between files */
      GstFlowReturn fr = open_next_file (self, no_wait);
      if (fr != GST_FLOW_OK)
        return fr;
    }
    /* Not waiting: only a file read ahead whole, or empty, is taken now;
     * another stays open for the next call's reads. */
    if (no_wait && !self->file_started && self->ahead == NULL &&
        !(self->size_known && self->size == 0))
      return FLOW_WOULD_BLOCK;
    GstBuffer *buf = NULL;
    gboolean whole = self->ahead && !self->file_started;
    GstFlowReturn fr = whole ? take_read_ahead (self, length, &buf) :
        do_create (self, self->file_pos, length, &buf);
    if (fr == GST_FLOW_EOS && !self->file_started) {
      whole = TRUE;
      /* An empty file: one empty buffer (DISCONT, tag, file meta) so that
       * downstream counts and names it like any other; its end comes at
       * the next call. */
      buf = gst_buffer_new ();
      fr = GST_FLOW_OK;
      GST_OBJECT_LOCK (self);
      self->size = 0;           /* read to its end: now known */
      self->size_known = TRUE;
      GST_OBJECT_UNLOCK (self);
    }
    if (fr == GST_FLOW_EOS) {
      GST_OBJECT_LOCK (self);
      self->stats.files_scanned++;
      GST_OBJECT_UNLOCK (self);
      close_file (self);
      continue;
    }
    if (fr == FLOW_FILE_TROUBLE) {
      gboolean go_on = file_skipped (self, self->file_path,
          self->trouble_reason, self->trouble_text, self->trouble_errno,
          self->file_pos, TRUE);
      close_file (self);
      if (!go_on)
        return GST_FLOW_ERROR;
      continue;
    }
    if (fr != GST_FLOW_OK)
      return fr;
    if (!self->file_started && self->tree_skip_binary && has_nul_byte (buf)) {
      gst_buffer_unref (buf);
      gboolean go_on = file_skipped (self, self->file_path, "binary",
          "binary: a NUL byte in its first block (skip-binary=true)", 0, 0,
          FALSE);
      close_file (self);
      if (!go_on)
        return GST_FLOW_ERROR;
      continue;
    }
    gsize size = gst_buffer_get_size (buf);
    /* Its end is then known without a read (do_create: EOS at once). */
    self->file_complete = whole && self->size_known &&
        self->file_pos + size >= self->size;
    if (!self->file_started) {
      self->file_started = TRUE;
      self->file_index = self->files_pushed++;
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
      queue_location_tag (self);
    }
    GST_BUFFER_OFFSET (buf) = self->file_base + self->file_pos;
    GST_BUFFER_OFFSET_END (buf) = GST_BUFFER_OFFSET (buf) + size;
    self->file_pos += size;
    self->stream_pos += size;
    *ret = buf;
    return GST_FLOW_OK;
  }
}

/* The GstVyreFileMeta of a buffer of the file being read whose first byte
 * is file_offset in it. */
static void
add_file_meta (GstVyreUriSrc * self, GstBuffer * buf, guint64 file_offset)
{
  GST_OBJECT_LOCK (self);
  guint64 size = self->size_known ? self->size : GST_VYRE_FILE_SIZE_UNKNOWN;
  GST_OBJECT_UNLOCK (self);
  if (self->file_path)
    gst_buffer_add_vyre_file_meta (buf, self->file_index, self->file_path,
        file_offset, size);
}

/* After first, the buffer of a whole file: the files after it that are
 * ready (read ahead whole, or empty), each one buffer, into one
 * GstBufferList submitted to GstBaseSrc (then create returns no buffer).
 * Without file-tags only: a tag event must come between two files.  An
 * error met meanwhile comes at the next create, after the list. */
static void
gather_ready_files (GstVyreUriSrc * self, guint length, GstBuffer ** first)
{
  GstBufferList *list = NULL;
  gsize bytes = gst_buffer_get_size (*first);
  guint n = 1;
  while (self->file_complete && n < LIST_MAX_FILES && bytes < LIST_MAX_BYTES) {
    GstBuffer *buf = NULL;
    GstFlowReturn fr = create_from_files (self, length, &buf, TRUE);
    if (fr != GST_FLOW_OK) {
      /* EOS and FLUSHING come again at the next call by themselves. */
      if (fr != FLOW_WOULD_BLOCK && fr != GST_FLOW_EOS &&
          fr != GST_FLOW_FLUSHING)
        self->deferred_flow = fr;
      break;
    }
    add_file_meta (self, buf, self->file_pos - gst_buffer_get_size (buf));
    if (list == NULL) {
      list = gst_buffer_list_new_sized (16);
      gst_buffer_list_add (list, g_steal_pointer (first));
    }
    bytes += gst_buffer_get_size (buf);
    gst_buffer_list_add (list, buf);
    n++;
  }
  if (list)
    gst_base_src_submit_buffer_list (GST_BASE_SRC (self), list);
}

static GstFlowReturn
gst_vyre_uri_src_create (GstBaseSrc * bsrc, guint64 offset, guint length,
    GstBuffer ** ret)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  GstFlowReturn fr;
  if (self->multi && self->deferred_flow != GST_FLOW_OK) {
    fr = self->deferred_flow;
    self->deferred_flow = GST_FLOW_OK;
  } else if (self->multi) {
    /* Not seekable: the bytes after the last ones, whatever offset says
     * (GstBaseSrc counts only the first buffer of a list submitted). */
    fr = create_from_files (self, length, ret, FALSE);
    if (fr == GST_FLOW_OK) {
      add_file_meta (self, *ret, self->file_pos - gst_buffer_get_size (*ret));
      if (!self->tree_file_tags)
        gather_ready_files (self, length, ret);
    }
  } else {
    fr = do_create (self, offset, length, ret);
    if (fr == GST_FLOW_OK)
      add_file_meta (self, *ret, offset);
  }
  /* io-stats while running: a copy every few buffers is current enough
   * (each takes the opener's lock, which its workers take per file); the
   * last one, at EOS, an error or stop, is exact. */
  if (fr != GST_FLOW_OK || ++self->buffers_since_snapshot >= STATS_EVERY) {
    snapshot_ring_stats (self);
    self->buffers_since_snapshot = 0;
  }
  return fr;
}

static GstFlowReturn
do_create (GstVyreUriSrc * self, guint64 offset,
    guint length, GstBuffer ** ret)
{

  if (g_atomic_int_get (&self->unlocked))
    return GST_FLOW_FLUSHING;
  guint64 end = stream_end (self);
  if (offset >= end || length == 0)
    return GST_FLOW_EOS;
  gsize len = (gsize) MIN ((guint64) length, end - offset);
  if (end == G_MAXUINT64)       /* size unknown: pieces our blocks hold */
    len = MIN (len, self->unknown_chunk);

  for (;;) {
    Pending *head = g_queue_peek_head (&self->pending);
    if (head == NULL || head->offset != offset || head->len != len) {
      /* A seek, or another read size: the read-ahead is of no use. */
      if (head) {
        GST_DEBUG_OBJECT (self, "read-ahead miss: want %" G_GUINT64_FORMAT
            "+%" G_GSIZE_FORMAT ", have %" G_GUINT64_FORMAT "+%" G_GSIZE_FORMAT,
            offset, len, head->offset, head->len);
        GST_OBJECT_LOCK (self);
        self->stats.read_ahead_restarts++;
        GST_OBJECT_UNLOCK (self);
      }
      drop_pending (self);
      self->next_offset = offset;
      self->chunk = len;
    }
    GstFlowReturn fr = top_up (self, TRUE);
    if (fr != GST_FLOW_OK)
      return fr;
    head = g_queue_peek_head (&self->pending);
    g_assert (head && head->offset == offset);

    ReadResult r = complete_head (self, head);
    if (r == READ_FLUSHING)
      return GST_FLOW_FLUSHING; /* the read stays queued, or a flush drops it */
    if (r == READ_ERROR) {
      drop_pending (self);
      return GST_FLOW_ERROR;
    }
    if (r == READ_FILE_TROUBLE) {
      drop_pending (self);
      return FLOW_FILE_TROUBLE;
    }
    if (r == READ_RETRY) {
      drop_pending (self);
      continue;
    }
    if (r == READ_END) {
      /* The reads behind this one lie past the end. */
      end = stream_end (self);
      g_queue_pop_head (&self->pending);
      drop_pending (self);
      if (end <= offset) {
        pending_free (self, head);
        return GST_FLOW_EOS;
      }
      g_queue_push_head (&self->pending, head);
      len = (gsize) (end - offset);
    }

    g_queue_pop_head (&self->pending);
    if (head->id >= 0)
      vyre_uring_reader_release (self->reader, head->id);
    gst_buffer_unmap (head->buf, &head->map);
    GstBuffer *buf = head->buf;
    if (head->read_offset != offset || head->read_len != len)
      gst_buffer_resize (buf, (gssize) (offset - head->read_offset),
          (gssize) len);
    GST_BUFFER_OFFSET (buf) = offset;
    GST_BUFFER_OFFSET_END (buf) = offset + len;
    GST_OBJECT_LOCK (self);
    self->in_flight = g_queue_get_length (&self->pending);
    self->stats.buffers++;
    self->stats.bytes += len;
    if (head->id < 0)
      self->stats.reads_pread++;
    else if (head->fixed)
      self->stats.reads_fixed++;
    else
      self->stats.reads_read++;
    GST_OBJECT_UNLOCK (self);
    g_free (head);

    /* Keep the queue full while downstream works on this buffer. */
    if (self->reader && top_up (self, FALSE) == GST_FLOW_ERROR) {
      gst_buffer_unref (buf);
      drop_pending (self);
      return GST_FLOW_ERROR;
    }
    *ret = buf;
    return GST_FLOW_OK;
  }
}

static gboolean
gst_vyre_uri_src_stop (GstBaseSrc * bsrc)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  drop_pending (self);
  if (self->reader) {
    VyreUringReaderStats rs;
    vyre_uring_reader_get_stats (self->reader, &rs);
    if (rs.stray)
      GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " io_uring completions "
          "matched no read", rs.stray);
    GST_OBJECT_LOCK (self);
    self->stats.ring.sqes += rs.sqes;
    self->stats.ring.continuations += rs.continuations;
    self->stats.ring.retries += rs.retries;
    self->stats.ring.cancels += rs.cancels;
    self->stats.ring.stray += rs.stray;
    memset (&self->stats.ring_live, 0, sizeof self->stats.ring_live);
    GST_OBJECT_UNLOCK (self);
    g_clear_pointer (&self->reader, vyre_uring_reader_free);
  }
  /* Buffers downstream still holds keep the arena mapped. */
  g_clear_pointer (&self->arena, vyre_read_arena_free);
  GST_OBJECT_LOCK (self);
  gst_clear_object (&self->down_alloc);
  self->mode = MODE_NONE;
  GST_OBJECT_UNLOCK (self);
  close_file (self);
  /* After the file being read: its descriptor closes through the opener. */
  if (self->opener) {
    snapshot_ring_stats (self);
    g_clear_pointer (&self->opener, vyre_file_opener_free);
  }
  g_clear_pointer (&self->walk, vyre_walk_result_free);
  GST_OBJECT_LOCK (self);
  self->files_total = 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_vyre_uri_src_unlock (GstBaseSrc * bsrc)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  g_atomic_int_set (&self->unlocked, 1);
  /* create() may wait for downstream's memory: wake it. */
  GST_OBJECT_LOCK (self);
  GstAllocator *down = self->down_alloc ?
      gst_object_ref (self->down_alloc) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (down && GST_IS_VYRE_ALLOCATOR (down))
    gst_vyre_allocator_wake (GST_VYRE_ALLOCATOR (down));
  gst_clear_object (&down);
  return TRUE;
}

/* Called with the stream lock held (create is not running): the flush is
 * over, so the reads queued before it are cancelled and reaped here. */
static gboolean
gst_vyre_uri_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  drop_pending (self);
  g_atomic_int_set (&self->unlocked, 0);
  return TRUE;
}

/* One file: seekable.  Several: a stream read once, in order (their
 * concatenation has no size before the last one is read). */
static gboolean
gst_vyre_uri_src_is_seekable (GstBaseSrc * bsrc)
{
  return !GST_VYRE_URI_SRC (bsrc)->multi;
}

/* The size known at start, or more if the file grew: never less, so a file
 * that shrinks ends in an error rather than a clipped stream.  No size for
 * a file read to end of file (procfs, sysfs, stat size 0): the stream ends
 * where the reads do. */
static gboolean
gst_vyre_uri_src_get_size (GstBaseSrc * bsrc, guint64 * size)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  GST_OBJECT_LOCK (self);
  gboolean size_known = self->size_known;
  GST_OBJECT_UNLOCK (self);
  if (self->fd < 0 || !size_known || self->multi)
    return FALSE;
  guint64 now = 0;
  struct stat st;
  if (self->is_blockdev) {
    if (ioctl (self->fd, BLKGETSIZE64, &now) != 0)
      now = 0;
  } else if (fstat (self->fd, &st) == 0) {
    now = (guint64) st.st_size;
  }
  GST_OBJECT_LOCK (self);
  if (now > self->size)
    self->size = now;
  *size = self->size;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Reads land in downstream's memory when it offers an allocator of its own
 * (vyrescan: its GPU-readable arena); otherwise in ours.  Never a pool: a
 * read gets a buffer of exactly the bytes it asks for. */
static gboolean
gst_vyre_uri_src_decide_allocation (GstBaseSrc * bsrc, GstQuery * query)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  GstAllocator *chosen = NULL;
  GstAllocationParams params;

  for (guint i = 0; i < gst_query_get_n_allocation_params (query); i++) {
    GstAllocator *a = NULL;
    gst_query_parse_nth_allocation_param (query, i, &a, &params);
    if (a && (GST_IS_VYRE_ALLOCATOR (a) ||
            g_strcmp0 (a->mem_type, GST_ALLOCATOR_SYSMEM) != 0)) {
      if (chosen == NULL || GST_IS_VYRE_ALLOCATOR (a))
        gst_object_replace ((GstObject **) & chosen, GST_OBJECT (a));
    }
    gst_clear_object (&a);
  }
  while (gst_query_get_n_allocation_pools (query) > 0)
    gst_query_remove_nth_allocation_pool (query, 0);

  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->down_alloc, GST_OBJECT (chosen));
  GST_OBJECT_UNLOCK (self);
  gst_allocation_params_init (&params);
  GstAllocator *used = chosen ? chosen :
      vyre_read_arena_get_allocator (self->arena);
  if (gst_query_get_n_allocation_params (query) > 0)
    gst_query_set_nth_allocation_param (query, 0, used, &params);
  else
    gst_query_add_allocation_param (query, used, &params);

  if (chosen) {
    GST_INFO_OBJECT (self, "reads land in downstream's memory: %"
        GST_PTR_FORMAT, chosen);
    guint blocksize = gst_base_src_get_blocksize (bsrc);
    /* A read is blocksize bytes, or the whole file when that is smaller;
     * with O_DIRECT rounded up to the alignment (more only after a seek to
     * an unaligned offset). */
    GST_OBJECT_LOCK (self);
    gsize read_bytes = self->size_known ? (gsize) MIN ((guint64) blocksize,
        self->size) : blocksize;
    GST_OBJECT_UNLOCK (self);
    if (self->multi)
      read_bytes = self->tree_read_len;
    if (self->direct_active)
      read_bytes = (read_bytes + self->align - 1) / self->align * self->align;
    if (self->opener)
      vyre_file_opener_set_read_ahead_bytes (self->opener,
          GST_IS_VYRE_ALLOCATOR (chosen) ? READ_AHEAD_DOWN_BLOCKS *
          (guint64) gst_vyre_allocator_block_size (GST_VYRE_ALLOCATOR
              (chosen)) : READ_AHEAD_OWN_BYTES);
    if (GST_IS_VYRE_ALLOCATOR (chosen) &&
        gst_vyre_allocator_block_size (GST_VYRE_ALLOCATOR (chosen)) <
        read_bytes && announce_once (self, ANNOUNCE_BLOCK_FIT))
      GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
          ("blocksize %u does not fit downstream's %" G_GSIZE_FORMAT
              "-byte GPU blocks: its buffers will be copied.", blocksize,
              gst_vyre_allocator_block_size (GST_VYRE_ALLOCATOR (chosen))),
          ("Fix: set blocksize to at most the block-size of vyrescan%s, or "
              "raise vyrescan's block-size.", self->direct_active ?
              " minus the direct-I/O alignment" : ""));
  } else {
    GST_INFO_OBJECT (self, "reads land in our own %s arena",
        self->mode == MODE_FIXED ? "registered" : "unregistered");
  }
  gst_clear_object (&chosen);
  return TRUE;
}

static gboolean
gst_vyre_uri_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (bsrc);
  if (GST_QUERY_TYPE (query) == GST_QUERY_URI) {
    gchar *uri = gst_uri_handler_get_uri (GST_URI_HANDLER (self));
    gst_query_set_uri (query, uri);
    g_free (uri);
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM &&
      gst_structure_has_name (gst_query_get_structure (query),
          GST_VYRE_FILES_QUERY)) {
    GST_OBJECT_LOCK (self);
    guint64 total = self->files_total;
    GST_OBJECT_UNLOCK (self);
    if (total == 0)
      return FALSE;             /* one file, or not started */
    gst_structure_set (gst_query_writable_structure (query), "total",
        G_TYPE_UINT64, total, NULL);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

/* ------------------------------------------------------------------ */
/* Properties and the URI handler                                      */

static gboolean
set_location (GstVyreUriSrc * self, const gchar * location, GError ** err)
{
  GST_OBJECT_LOCK (self);
  GstState state = GST_STATE (self);
  if (state != GST_STATE_READY && state != GST_STATE_NULL) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "location can only be changed in NULL or "
        "READY");
    g_set_error (err, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the location of vyreurisrc while it reads is not "
        "supported.");
    return FALSE;
  }
  g_free (self->location);
  self->location = g_strdup (location);
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "location");
  return TRUE;
}

static GstURIType
gst_vyre_uri_src_uri_get_type (GType type)
{
  (void) type;
  return GST_URI_SRC;
}

static const gchar *const *
gst_vyre_uri_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "file", NULL };
  (void) type;
  return protocols;
}

static gchar *
gst_vyre_uri_src_uri_get_uri (GstURIHandler * handler)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (handler);
  gchar *loc = get_location (self);
  gchar *uri = loc ? gst_filename_to_uri (loc, NULL) : NULL;
  g_free (loc);
  return uri;
}

static gboolean
gst_vyre_uri_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** err)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (handler);
  if (g_strcmp0 (uri, "file://") == 0)
    return set_location (self, NULL, err);
  gchar *host = NULL;
  GError *e = NULL;
  gchar *location = g_filename_from_uri (uri, &host, &e);
  if (location == NULL) {
    g_set_error (err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "Invalid file URI '%s': %s", uri, e ? e->message : "?");
    g_clear_error (&e);
    return FALSE;
  }
  if (host && *host && g_strcmp0 (host, "localhost") != 0) {
    g_set_error (err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
        "File URI '%s' names host '%s': only local files can be read.", uri,
        host);
    g_free (host);
    g_free (location);
    return FALSE;
  }
  gboolean ok = set_location (self, location, err);
  g_free (host);
  g_free (location);
  return ok;
}

static void
gst_vyre_uri_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = g_iface;
  (void) iface_data;
  iface->get_type = gst_vyre_uri_src_uri_get_type;
  iface->get_protocols = gst_vyre_uri_src_uri_get_protocols;
  iface->get_uri = gst_vyre_uri_src_uri_get_uri;
  iface->set_uri = gst_vyre_uri_src_uri_set_uri;
}

static GstStructure *
build_stats (GstVyreUriSrc * self)
{
  GST_OBJECT_LOCK (self);
  Stats s = self->stats;
  s.ring.sqes += s.ring_live.sqes;
  s.ring.continuations += s.ring_live.continuations;
  s.ring.retries += s.ring_live.retries;
  s.ring.stray += s.ring_live.stray;
  ActiveMode mode = self->mode;
  gboolean direct = self->direct_active && mode != MODE_NONE;
  gboolean down = self->down_alloc && !self->down_refused;
  guint in_flight = self->in_flight;
  guint64 arena_bytes = self->arena_bytes, pinned_bytes = self->pinned_bytes;
  GST_OBJECT_UNLOCK (self);
  /* The running reader's counters are as of the last create(). */
  return gst_structure_new ("vyreurisrc-stats",
      "mode", G_TYPE_STRING, mode_names[mode],
      "direct", G_TYPE_BOOLEAN, direct,
      "allocator", G_TYPE_STRING, down ? "downstream" : "own",
      "buffers", G_TYPE_UINT64, s.buffers,
      "bytes", G_TYPE_UINT64, s.bytes,
      "reads-fixed", G_TYPE_UINT64, s.reads_fixed,
      "reads-read", G_TYPE_UINT64, s.reads_read,
      "reads-pread", G_TYPE_UINT64, s.reads_pread,
      "sqes", G_TYPE_UINT64, s.ring.sqes,
      "continuations", G_TYPE_UINT64, s.ring.continuations,
      "retries", G_TYPE_UINT64, s.ring.retries,
      "stray-completions", G_TYPE_UINT64, s.ring.stray,
      "cancelled", G_TYPE_UINT64, s.cancelled,
      "read-ahead-restarts", G_TYPE_UINT64, s.read_ahead_restarts,
      "arena-misses", G_TYPE_UINT64, s.arena_misses,
      "downstream-waits", G_TYPE_UINT64, s.downstream_waits,
      "max-in-flight", G_TYPE_UINT64, s.max_in_flight,
      "files-scanned", G_TYPE_UINT64, s.files_scanned,
      "files-skipped", G_TYPE_UINT64, s.files_skipped,
      "open-ahead-limit", G_TYPE_UINT, s.opener.ahead_limit,
      "max-open-ahead", G_TYPE_UINT, s.opener.max_ahead,
      "file-ops-uring", G_TYPE_UINT64, s.opener.uring_ops,
      "file-ops-plain", G_TYPE_UINT64, s.opener.plain_ops,
      "arena-bytes", G_TYPE_UINT64, arena_bytes,
      "pinned-bytes", G_TYPE_UINT64, pinned_bytes,
      "in-flight", G_TYPE_UINT, in_flight, NULL);
}

static void
gst_vyre_uri_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (object);
  switch (prop_id) {
    case PROP_LOCATION:
      set_location (self, g_value_get_string (value), NULL);
      break;
    case PROP_BLOCKSIZE:
      gst_base_src_set_blocksize (GST_BASE_SRC (self),
          g_value_get_uint (value));
      break;
    case PROP_QUEUE_DEPTH:
      GST_OBJECT_LOCK (self);
      self->queue_depth = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IO_WORKERS:
      GST_OBJECT_LOCK (self);
      self->io_workers = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DIRECT:
      GST_OBJECT_LOCK (self);
      self->direct = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IO_MODE:
      GST_OBJECT_LOCK (self);
      self->io_mode = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FILES_FROM:
      GST_OBJECT_LOCK (self);
      g_free (self->files_from);
      self->files_from = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RECURSIVE:
      GST_OBJECT_LOCK (self);
      self->walk_opts.recursive = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FOLLOW_SYMLINKS:
      GST_OBJECT_LOCK (self);
      self->walk_opts.follow_symlinks = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EXCLUDE:{
      guint n = gst_value_array_get_size (value);
      gchar **globs = g_new0 (gchar *, n + 1);
      for (guint i = 0; i < n; i++)
        globs[i] = g_value_dup_string (gst_value_array_get_value (value, i));
      GST_OBJECT_LOCK (self);
      g_strfreev (self->exclude);
      self->exclude = globs;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case PROP_MAX_FILE_SIZE:
      GST_OBJECT_LOCK (self);
      self->walk_opts.max_file_size = g_value_get_uint64 (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INCLUDE_VCS:
      GST_OBJECT_LOCK (self);
      self->walk_opts.include_vcs = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SKIP_BINARY:
      GST_OBJECT_LOCK (self);
      self->skip_binary = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STRICT:
      GST_OBJECT_LOCK (self);
      self->strict = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FILE_TAGS:
      GST_OBJECT_LOCK (self);
      self->file_tags = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_vyre_uri_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (object);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_take_string (value, get_location (self));
      break;
    case PROP_BLOCKSIZE:
      g_value_set_uint (value, gst_base_src_get_blocksize (GST_BASE_SRC (self)));
      break;
    case PROP_QUEUE_DEPTH:
      GST_OBJECT_LOCK (self);
      g_value_set_uint (value, self->queue_depth);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IO_WORKERS:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->io_workers);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_DIRECT:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->direct);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IO_MODE:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->io_mode);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_IO_STATS:
      g_value_take_boxed (value, build_stats (self));
      break;
    case PROP_FILES_FROM:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->files_from);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_RECURSIVE:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->walk_opts.recursive);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FOLLOW_SYMLINKS:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->walk_opts.follow_symlinks);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_EXCLUDE:
      GST_OBJECT_LOCK (self);
      for (gchar ** g = self->exclude; g && *g; g++) {
        GValue v = G_VALUE_INIT;
        g_value_init (&v, G_TYPE_STRING);
        g_value_set_string (&v, *g);
        gst_value_array_append_and_take_value (value, &v);
      }
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MAX_FILE_SIZE:
      GST_OBJECT_LOCK (self);
      g_value_set_uint64 (value, self->walk_opts.max_file_size);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_INCLUDE_VCS:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->walk_opts.include_vcs);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_SKIP_BINARY:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->skip_binary);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_STRICT:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->strict);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FILE_TAGS:
      GST_OBJECT_LOCK (self);
      g_value_set_boolean (value, self->file_tags);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_vyre_uri_src_finalize (GObject * object)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (object);
  g_free (self->location);
  g_free (self->files_from);
  g_strfreev (self->exclude);
  vyre_walk_ahead_free (self->walk_ahead);      /* disposed in READY */
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* A directory's walk begins when going to READY, on a thread: it runs
 * while downstream gets ready (vyrescan opens its device then), and
 * start() takes its list when the settings are still those it began with
 * (else it walks again).  The list is the tree as it was then. */
static void
begin_walk (GstVyreUriSrc * self, const gchar * path)
{
  GST_OBJECT_LOCK (self);
  gboolean from_list = self->files_from && *self->files_from;
  VyreWalkOptions opts = self->walk_opts;
  gchar **exclude = g_strdupv (self->exclude);
  GST_OBJECT_UNLOCK (self);
  opts.exclude = (const gchar * const *) exclude;
  if (!from_list)
    self->walk_ahead = vyre_walk_ahead_begin (path, &opts);
  g_strfreev (exclude);
}

/* A location that cannot be opened fails going to READY, with vyre's own
 * error: failing later, in GstBaseSrc's start(), makes GstBaseSrc post a
 * second, generic error ("failed to post a proper error message") after
 * it.  start() opens the file again (it may have changed meanwhile) and
 * still reports what goes wrong then. */
static GstStateChangeReturn
gst_vyre_uri_src_change_state (GstElement * element, GstStateChange transition)
{
  GstVyreUriSrc *self = GST_VYRE_URI_SRC (element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    gchar *path = get_location (self);
    if (path != NULL) {
      int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        vyre_uri_src_error_open (element, path, errno);
        g_free (path);
        return GST_STATE_CHANGE_FAILURE;
      }
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
        begin_walk (self, path);
      close (fd);
      g_free (path);
    }
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (gst_vyre_uri_src_parent_class)->change_state
      (element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY &&
          ret == GST_STATE_CHANGE_FAILURE))
    g_clear_pointer (&self->walk_ahead, vyre_walk_ahead_free);
  return ret;
}

static void
gst_vyre_uri_src_class_init (GstVyreUriSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_vyre_uri_src_set_property;
  gobject_class->get_property = gst_vyre_uri_src_get_property;
  gobject_class->finalize = gst_vyre_uri_src_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "File location",
          "Path of the file to read, or of a directory whose files are read "
          "one after another in sorted order (file:// URIs go through the "
          "URI handler)", NULL, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FILES_FROM,
      g_param_spec_string ("files-from", "Files from",
          "A file listing the files to read, one path a line or "
          "NUL-separated (find -print0); - reads standard input.  Instead "
          "of location", NULL, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RECURSIVE,
      g_param_spec_boolean ("recursive", "Recursive",
          "Walk the directories inside a location directory too",
          TRUE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FOLLOW_SYMLINKS,
      g_param_spec_boolean ("follow-symlinks", "Follow symbolic links",
          "Follow symbolic links met in a walk (each directory is still "
          "walked once: loops end); off, links are skipped and named",
          FALSE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_EXCLUDE,
      gst_param_spec_array ("exclude", "Exclude",
          "Globs ('*' and '?', '*' matching '/' too) matched against each "
          "path relative to the location directory (or as listed); matches "
          "are skipped, a matched directory is not walked.  gst-launch: "
          "exclude='<\"*.png\",\"vendor/*\">'",
          g_param_spec_string ("glob", "Glob", "One exclude glob", NULL,
              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_FILE_SIZE,
      g_param_spec_uint64 ("max-file-size", "Maximum file size",
          "Skip (and name) files larger than this many bytes; 0: no limit",
          0, G_MAXUINT64, 0, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INCLUDE_VCS,
      g_param_spec_boolean ("include-vcs", "Include VCS directories",
          "Walk .git, .hg and .svn directories too (skipped by default)",
          FALSE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SKIP_BINARY,
      g_param_spec_boolean ("skip-binary", "Skip binary files",
          "Of several files, skip (and name) those with a NUL byte in their "
          "first block", FALSE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STRICT,
      g_param_spec_boolean ("strict", "Strict",
          "Of several files, any that cannot be read (unreadable, vanished, "
          "a read error, shrank, a FIFO, socket or device) is an error "
          "instead of a skipped file", FALSE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_FILE_TAGS,
      g_param_spec_boolean ("file-tags", "File tags",
          "Of several files, send a tag event with the file's location "
          "(GST_TAG_LOCATION, a file:// URI) before each file's first "
          "buffer, for elements and applications that follow files by tags. "
          "Every buffer's GstVyreFileMeta names its file either way; "
          "vyrescan and vyresink read that", FALSE,
          rw | GST_PARAM_MUTABLE_READY));
  /* Shadows GstBaseSrc's blocksize for its 1 MiB default. */
  g_object_class_install_property (gobject_class, PROP_BLOCKSIZE,
      g_param_spec_uint ("blocksize", "Block size",
          "Bytes per buffer and per read (at most vyrescan's block-size for "
          "zero copy)", 1, MAX_BLOCKSIZE, DEFAULT_BLOCKSIZE,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_QUEUE_DEPTH,
      g_param_spec_uint ("queue-depth", "Queue depth",
          "Reads kept in flight ahead of the buffer being pushed",
          1, MAX_QUEUE_DEPTH, DEFAULT_QUEUE_DEPTH,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IO_WORKERS,
      g_param_spec_boolean ("io-workers", "I/O workers",
          "Let io_uring's kernel workers copy the reads (IOSQE_ASYNC): the "
          "reads in flight copy on several cores instead of the streaming "
          "thread's one (page-cached files read several times faster)",
          DEFAULT_IO_WORKERS, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DIRECT,
      g_param_spec_boolean ("direct", "Direct I/O",
          "Bypass the page cache (O_DIRECT, aligned reads) for cold data; "
          "falls back to cached reads where the file system refuses it",
          DEFAULT_DIRECT, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IO_MODE,
      g_param_spec_enum ("io-mode", "I/O mode",
          "How reads are issued: auto falls back fixed -> read -> pread "
          "(announced); the others insist on one mode",
          GST_TYPE_VYRE_URI_SRC_IO_MODE, DEFAULT_IO_MODE,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IO_STATS,
      g_param_spec_boxed ("io-stats", "I/O statistics",
          "Mode in use, reads by kind, bytes, SQEs, short-read "
          "continuations, cancelled reads, arena misses, reads in flight, "
          "files-scanned and files-skipped (of a directory or a list)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  element_class->change_state = gst_vyre_uri_src_change_state;
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "io_uring file source", "Source/File",
      "Reads a file with io_uring, several reads in flight, into "
      "GPU-readable memory when downstream offers it",
      "gst-vyre <https://github.com/gst-vyre/gst-vyre>");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_stop);
  basesrc_class->create = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_create);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_unlock_stop);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_is_seekable);
  basesrc_class->get_size = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_get_size);
  basesrc_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_vyre_uri_src_decide_allocation);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_vyre_uri_src_query);

  gst_type_mark_as_plugin_api (GST_TYPE_VYRE_URI_SRC_IO_MODE, 0);
}

static void
gst_vyre_uri_src_init (GstVyreUriSrc * self)
{
  self->queue_depth = DEFAULT_QUEUE_DEPTH;
  self->io_workers = DEFAULT_IO_WORKERS;
  self->direct = DEFAULT_DIRECT;
  self->io_mode = DEFAULT_IO_MODE;
  vyre_walk_options_init (&self->walk_opts);
  self->fd = self->dfd = -1;
  g_queue_init (&self->pending);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
  gst_base_src_set_blocksize (GST_BASE_SRC (self), DEFAULT_BLOCKSIZE);
}
