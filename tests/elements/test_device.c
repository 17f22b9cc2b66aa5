/*
 * test_device.c - vyre_device_open's errors tell the user what to change:
 * an index the machine lacks, chosen by the `device` property or by the
 * VYRE_DEVICE environment variable (which overrides the property, so its
 * Fix must name the variable, not the property).  Skips (exit 77) where
 * there is no Vulkan driver at all.
 */
#include <string.h>

#include "ring_test_util.h"
#include "vyre-device.h"

/* Open index with VYRE_DEVICE set to env (NULL: unset); the error must
 * contain every needle of want and none of refuse (NULL-terminated). */
static void
expect_open_error (const char *env, gint index, const char *const *want,
    const char *const *refuse, int line)
{
  GError *err = NULL;
  VyreDevice *dev;

  if (env)
    g_setenv ("VYRE_DEVICE", env, TRUE);
  else
    g_unsetenv ("VYRE_DEVICE");
  dev = vyre_device_open (index, &err);
  if (dev != NULL) {
    ring_test_failures++;
    fprintf (stderr, "line %d: device %d opened, expected an error\n", line,
        index);
    vyre_device_unref (dev);
    return;
  }
  for (; *want; want++)
    if (strstr (err->message, *want) == NULL) {
      ring_test_failures++;
      fprintf (stderr, "line %d: message lacks \"%s\": %s\n", line, *want,
          err->message);
    }
  for (; refuse && *refuse; refuse++)
    if (strstr (err->message, *refuse) != NULL) {
      ring_test_failures++;
      fprintf (stderr, "line %d: message has \"%s\": %s\n", line, *refuse,
          err->message);
    }
  g_error_free (err);
}

int
main (void)
{
  GError *err = NULL;
  VyreDevice *dev;

  /* Is there a device at all?  Without a driver every case below is the
   * no-driver error, which other tests cover. */
  g_unsetenv ("VYRE_DEVICE");
  dev = vyre_device_open (-1, &err);
  if (dev == NULL) {
    fprintf (stderr, "SKIP: no usable Vulkan device: %s\n", err->message);
    g_error_free (err);
    return 77;
  }
  vyre_device_unref (dev);

  /* VYRE_DEVICE names a missing index while the property says auto: the
   * Fix names the variable, its value, the devices found */
  {
    const char *const want[] = { "VYRE_DEVICE=4096", "unset VYRE_DEVICE",
      "overrides the device property", "devices: #0", "Fix:", NULL
    };
    const char *const refuse[] = { "set device=-1", NULL };
    expect_open_error ("4096", -1, want, refuse, __LINE__);
  }
  /* the same index from the property alone: the property's Fix */
  {
    const char *const want[] = { "device 4096 does not exist",
      "set device=-1", "devices: #0", NULL
    };
    const char *const refuse[] = { "VYRE_DEVICE", NULL };
    expect_open_error (NULL, 4096, want, refuse, __LINE__);
  }
  /* not a number */
  {
    const char *const want[] = { "VYRE_DEVICE='gpu0'", "Fix:", NULL };
    expect_open_error ("gpu0", -1, want, NULL, __LINE__);
  }
  g_unsetenv ("VYRE_DEVICE");
  return ring_test_finish ("test_device");
}
