/* leak-check.c - see leak-check.h */
#include "leak-check.h"

struct _LeakCheck
{
  GstTracer *tracer;
  /* "TypeName address" -> creations minus destructions seen */
  GHashTable *balance;
};

LeakCheck *
leak_check_begin (void)
{
  GstTracer *found = NULL;
  GList *tracers = gst_tracing_get_active_tracers ();
  for (GList * l = tracers; l; l = l->next)
    if (found == NULL && g_str_equal (G_OBJECT_TYPE_NAME (l->data),
            "GstLeaksTracer"))
      found = gst_object_ref (l->data);
  g_list_free_full (tracers, gst_object_unref);
  if (found == NULL)
    return NULL;
  LeakCheck *lc = g_new0 (LeakCheck, 1);
  lc->tracer = found;
  lc->balance = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_emit_by_name (found, "activity-start-tracking");
  return lc;
}

static void
add_list (LeakCheck * lc, const GstStructure * checkpoint, const gchar * field,
    gint sign)
{
  const GValue *list = gst_structure_get_value (checkpoint, field);
  for (guint i = 0; list && i < gst_value_list_get_size (list); i++) {
    const GstStructure *o =
        gst_value_get_structure (gst_value_list_get_value (list, i));
    gchar *key = g_strdup_printf ("%s %s",
        gst_structure_get_string (o, "type-name"),
        gst_structure_get_string (o, "address"));
    gint n = GPOINTER_TO_INT (g_hash_table_lookup (lc->balance, key)) + sign;
    /* Destroyed but created before the check began: not ours. */
    if (n <= 0)
      g_hash_table_remove (lc->balance, key);
    else
      g_hash_table_insert (lc->balance, g_strdup (key), GINT_TO_POINTER (n));
    g_free (key);
  }
}

/* Folds the tracer's record since the last look into the balance. */
static void
take_checkpoint (LeakCheck * lc)
{
  GstStructure *cp = NULL;
  g_signal_emit_by_name (lc->tracer, "activity-get-checkpoint", &cp);
  g_assert (cp != NULL);
  /* Creations first: an object created and destroyed between two looks
   * balances out. */
  add_list (lc, cp, "objects-created-list", 1);
  add_list (lc, cp, "objects-removed-list", -1);
  gst_structure_free (cp);
}

static gchar *
describe_alive (LeakCheck * lc, const gchar * type_name)
{
  GHashTable *per_type = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, lc->balance);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    gchar *type = g_strndup (key, strchr (key, ' ') - (gchar *) key);
    if (type_name == NULL || g_str_equal (type, type_name)) {
      gint n = GPOINTER_TO_INT (g_hash_table_lookup (per_type, type));
      g_hash_table_insert (per_type, g_strdup (type),
          GINT_TO_POINTER (n + GPOINTER_TO_INT (value)));
    }
    g_free (type);
  }
  gchar *out = NULL;
  if (g_hash_table_size (per_type) > 0) {
    GString *s = g_string_new (NULL);
    g_hash_table_iter_init (&it, per_type);
    while (g_hash_table_iter_next (&it, &key, &value))
      g_string_append_printf (s, "%s%d %s", s->len ? ", " : "",
          GPOINTER_TO_INT (value), (const gchar *) key);
    out = g_string_free (s, FALSE);
  }
  g_hash_table_unref (per_type);
  return out;
}

gchar *
leak_check_alive (LeakCheck * lc, const gchar * type_name, guint timeout_ms)
{
  if (lc == NULL)
    return NULL;
  gint64 until = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  for (;;) {
    take_checkpoint (lc);
    gchar *alive = describe_alive (lc, type_name);
    if (alive == NULL || g_get_monotonic_time () >= until)
      return alive;
    g_free (alive);
    g_usleep (2000);
  }
}

void
leak_check_end (LeakCheck * lc)
{
  if (lc == NULL)
    return;
  g_signal_emit_by_name (lc->tracer, "activity-stop-tracking");
  g_hash_table_unref (lc->balance);
  gst_object_unref (lc->tracer);
  g_free (lc);
}
