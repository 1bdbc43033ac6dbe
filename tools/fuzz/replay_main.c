/* A main() for the fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once on each file
 * named on the command line. tools/fuzz/run.sh links it with the enet_receive target into
 * build/fuzz/bin/enet_receive_replay (AddressSanitizer and UBSan, no coverage), so reproducers and
 * corpora can be replayed by any compiler that has the sanitizers (a jest regression test can build
 * it with `cc`, as test/helpers/compression-harness.ts does).
 *
 *   enet_receive_replay <file>...   exit status 0 if every file ran without a sanitizer report */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (f == NULL) {
      fprintf(stderr, "cannot open %s\n", argv[i]);
      return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(data, 1, (size_t)(n > 0 ? n : 0), f);
    fclose(f);
    LLVMFuzzerTestOneInput(data, got);
    free(data);
    printf("ok %s\n", argv[i]);
  }
  return 0;
}
