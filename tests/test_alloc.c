/* NN_MALLOC/NN_FREE are honoured, every allocation is freed, and an
   allocation that fails at any point comes back as NULL or NN_ERR_NOMEM
   with nothing leaked and the net still usable.  Linked with
   tests/dropin_impl.c, the implementation built with the counting
   allocator. */
#include <stdio.h>

#include "counting_alloc.h"
#include "../nn.h"
#include "harness.h"

static const size_t sizes[] = {3, 8, 2};
static const nn_act acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};

int main(void) {
    const nn_real x[] = {1, 2, 3, 4, 5, 6}, y[] = {1, 0, 0, 1};
    long needed;
    nn_net *net;

    /* a full life cycle, counted */
    t_calls = 0;
    net = nn_create(2, sizes, acts, 1, NULL);
    CHECK(net != NULL);
    CHECK(nn_forward(net, x, 2) != NULL);
    CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, y, NULL) == NN_OK);
    needed = t_calls;
    CHECK(t_live == 3); /* the net, its parameters, its workspace */
    nn_destroy(net);
    CHECK(t_live == 0);

    /* the k-th allocation fails, for every k */
    for (long k = 0; k < needed; k++) {
        const nn_real *out;
        t_calls = 0;
        t_fail_at = k;
        net = nn_create(2, sizes, acts, 1, NULL);
        out = net ? nn_forward(net, x, 2) : NULL;
        CHECK(net != NULL || t_live == 0);
        if (net && !out) {
            /* the net survives a workspace that could not grow */
            t_fail_at = -1;
            CHECK(nn_reserve(net, 2) == NN_OK);
            CHECK(nn_forward(net, x, 2) != NULL);
        }
        nn_destroy(net);
        CHECK(t_live == 0);
    }
    t_fail_at = -1;

    /* a failed reserve reports NN_ERR_NOMEM and keeps the old workspace */
    net = nn_create(2, sizes, acts, 1, NULL);
    nn_forward(net, x, 2);
    t_calls = 0;
    t_fail_at = 0;
    CHECK(nn_reserve(net, 100) == NN_ERR_NOMEM);
    CHECK(nn_backward(net, NN_LOSS_CROSS_ENTROPY, y, NULL) == NN_OK);
    t_fail_at = -1;
    nn_destroy(net);
    CHECK(t_live == 0);

    /* nn_gradcheck passes a workspace that cannot grow on as NN_ERR_NOMEM */
    net = nn_create(2, sizes, acts, 1, NULL);
    t_calls = 0;
    t_fail_at = 0;
    CHECK(nn_gradcheck(net, NN_LOSS_CROSS_ENTROPY, x, y, 2, 0, NULL, NULL) ==
          NN_ERR_NOMEM);
    t_fail_at = -1;
    nn_destroy(net);
    CHECK(t_live == 0);

    /* nn_step: its state cannot be had, so no step; later it can */
    {
        nn_opt adam = nn_opt_adam(0.1);
        nn_real w0;
        net = nn_create(2, sizes, acts, 1, NULL);
        w0 = nn_params(net)[0];
        nn_grads(net)[0] = 1;
        t_calls = 0;
        t_fail_at = 0;
        CHECK(nn_step(net, &adam) == NN_ERR_NOMEM);
        CHECK(nn_params(net)[0] == w0);
        t_fail_at = -1;
        CHECK(nn_step(net, &adam) == NN_OK);
        CHECK(nn_params(net)[0] != w0);
        nn_destroy(net);
        CHECK(t_live == 0);
    }

    /* nn_train: whichever of its allocations fails, NN_ERR_NOMEM before
       any step, the weights untouched, nothing leaked, and the net trains
       afterwards */
    {
        const nn_real tx[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, ty[] = {1, 0, 0, 1, 1, 0};
        nn_train_config cfg = nn_train_defaults(NN_LOSS_CROSS_ENTROPY);
        nn_real w0;
        long train_needed;
        cfg.epochs = 2;
        cfg.batch_size = 2;
        cfg.patience = 1;
        net = nn_create(2, sizes, acts, 1, NULL);
        t_calls = 0;
        CHECK(nn_train(net, &cfg, tx, ty, 3, NULL) == NN_OK);
        train_needed = t_calls;
        CHECK(train_needed == 4); /* workspace, optimizer state, 2 buffers */
        nn_destroy(net);
        for (long k = 0; k < train_needed; k++) {
            net = nn_create(2, sizes, acts, 1, NULL);
            w0 = nn_params(net)[0];
            t_calls = 0;
            t_fail_at = k;
            CHECK(nn_train(net, &cfg, tx, ty, 3, NULL) == NN_ERR_NOMEM);
            CHECK(nn_params(net)[0] == w0);
            t_fail_at = -1;
            CHECK(nn_train(net, &cfg, tx, ty, 3, NULL) == NN_OK);
            CHECK(nn_params(net)[0] != w0);
            nn_destroy(net);
            CHECK(t_live == 0);
        }
    }

    /* the evaluation helpers on a net without a workspace yet */
    {
        size_t classes[2], counts[4];
        double loss = 0, acc = 0;
        for (int fn = 0; fn < 3; fn++) {
            net = nn_create(2, sizes, acts, 1, NULL);
            t_calls = 0;
            t_fail_at = 0;
            CHECK((fn == 0   ? nn_classify(net, x, 2, classes)
                   : fn == 1 ? nn_evaluate(net, NN_LOSS_CROSS_ENTROPY, x, y, 2, &loss, &acc)
                             : nn_confusion_matrix(net, x, y, 2, counts)) == NN_ERR_NOMEM);
            t_fail_at = -1;
            CHECK(nn_classify(net, x, 2, classes) == NN_OK);
            nn_destroy(net);
            CHECK(t_live == 0);
        }
    }

    /* model files: whichever allocation of a load fails, NULL and
       NN_ERR_NOMEM, nothing leaked; a save that cannot name its temporary
       file fails with NN_ERR_NOMEM and writes nothing */
    {
        const char *path = "build/alloc-test.nn";
        unsigned char buf[2048];
        size_t len;
        long load_needed, file_needed;
        nn_result err;
        nn_opt adam = nn_opt_adam(0.1);
        net = nn_create(2, sizes, acts, 1, NULL);
        nn_grads(net)[0] = 1;
        nn_step(net, &adam); /* a model with optimizer state */
        len = nn_save_size(net);
        CHECK(len <= sizeof buf && nn_save_mem(net, buf, sizeof buf) == NN_OK);
        remove(path);
        t_calls = 0;
        t_fail_at = 0;
        CHECK(nn_save(net, path) == NN_ERR_NOMEM);
        t_fail_at = -1;
        CHECK(nn_load(path, &err) == NULL && err == NN_ERR_IO); /* nothing written */
        CHECK(nn_save(net, path) == NN_OK);
        nn_destroy(net);
        CHECK(t_live == 0);
        t_calls = 0;
        nn_destroy(nn_load_mem(buf, len, &err));
        load_needed = t_calls;
        CHECK(load_needed == 4); /* sizes, net, params, optimizer state */
        t_calls = 0;
        nn_destroy(nn_load(path, &err));
        file_needed = t_calls;
        /* and the buffers the file is read into, each at most twice the
           last */
        CHECK(file_needed > load_needed);
        for (long k = 0; k < file_needed; k++) {
            nn_net *back;
            t_calls = 0;
            t_fail_at = k;
            back = k < load_needed ? nn_load_mem(buf, len, &err) : NULL;
            CHECK(k >= load_needed || (back == NULL && err == NN_ERR_NOMEM));
            CHECK(t_live == 0);
            t_calls = 0;
            back = nn_load(path, &err);
            CHECK(back == NULL && err == NN_ERR_NOMEM);
            CHECK(t_live == 0);
        }
        t_fail_at = -1;
        remove(path);
    }

    /* a batch of 0 rows is a size a caller passes at run time: refused in
       every build with NULL (test_checks covers every such size) */
    net = nn_create(2, sizes, acts, 1, NULL);
    CHECK(nn_forward(net, x, 2) != NULL);
    CHECK(nn_forward(net, x, 0) == NULL);
    nn_destroy(net);

    /* sizes that overflow are refused before anything is allocated */
    {
        const size_t huge[] = {(size_t)-1 / 4, 5};
        t_calls = 0;
        CHECK(nn_create(1, huge, acts, 1, NULL) == NULL);
        CHECK(t_calls == 0);
    }
    return th_report();
}
