/*
 * scan-file.c - embedding gst-vyre in a C application.
 *
 *   scan-file FILE PATTERNS-FILE
 *
 * Builds "vyreurisrc ! vyrescan ! vyresink", prints every vyre-progress and
 * vyre-epoch message from the bus, and the vyre-summary at the end.  Exits
 * 0 on success, 1 on a pipeline error (with the element's message).
 */
#include <gst/gst.h>
#include <stdio.h>

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  GMainLoop *loop = user_data;
  int *status = g_object_get_data (G_OBJECT (bus), "status");
  (void) bus;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "vyre-progress")) {
        guint64 bytes = 0;
        gdouble gbps = 0;
        gst_structure_get_uint64 (s, "bytes", &bytes);
        gst_structure_get_double (s, "gbps", &gbps);
        printf ("progress: %" G_GUINT64_FORMAT " bytes, %.3f GB/s\n", bytes,
            gbps);
      } else if (gst_structure_has_name (s, "vyre-epoch")) {
        guint epoch = 0;
        gst_structure_get_uint (s, "epoch", &epoch);
        printf ("epoch: %u\n", epoch);
      } else if (gst_structure_has_name (s, "vyre-summary")) {
        guint64 bytes = 0, matches = 0, dropped = 0;
        gst_structure_get_uint64 (s, "bytes", &bytes);
        gst_structure_get_uint64 (s, "matches", &matches);
        gst_structure_get_uint64 (s, "dropped_matches", &dropped);
        printf ("summary: bytes=%" G_GUINT64_FORMAT " matches=%"
            G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT " crc32=%s "
            "device=%s\n", bytes, matches, dropped,
            gst_structure_get_string (s, "crc32"),
            gst_structure_get_string (s, "device"));
      }
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      fprintf (stderr, "error: %s\n%s\n", err->message, dbg ? dbg : "");
      g_error_free (err);
      g_free (dbg);
      *status = 1;
      g_main_loop_quit (loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (loop);
      break;
    default:
      break;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc != 3) {
    fprintf (stderr, "usage: %s FILE PATTERNS-FILE\n", argv[0]);
    return 2;
  }
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("vyreurisrc name=src ! "
      "vyrescan name=scan ! vyresink name=sink print-summary=false "
      "message-interval=0");
  GstElement *pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (pipeline == NULL) {
    fprintf (stderr, "could not build the pipeline: %s\n", err->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstElement *scan = gst_bin_get_by_name (GST_BIN (pipeline), "scan");
  g_object_set (src, "location", argv[1], NULL);
  g_object_set (scan, "patterns-file", argv[2], NULL);
  gst_object_unref (src);
  gst_object_unref (scan);

  int status = 0;
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  GstBus *bus = gst_element_get_bus (pipeline);
  g_object_set_data (G_OBJECT (bus), "status", &status);
  gst_bus_add_watch (bus, on_message, loop);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message is on the bus */
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m) {
      on_message (bus, m, loop);
      gst_message_unref (m);
    }
    status = 1;
  } else {
    g_main_loop_run (loop);
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  guint64 completed = 0;
  g_object_get (sink, "completed", &completed, NULL);
  printf ("completed buffers: %" G_GUINT64_FORMAT "\n", completed);
  gst_object_unref (sink);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  return status;
}
