/* The SG_IO transport's exec (pr_sgio.c): the sg_io_hdr it builds and how it reads the answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drover/error.h"
#include "drover/pr.h"
#include "pr_vectors.h"
#include "sgio_mock.h"

static int
setup(void **state)
{
    struct dr_pr_open_opts opts = {.timeout_ms = 1234, .ua_retries = 1};
    struct dr_pr_device *dev = NULL;

    sgio_mock_reset();
    assert_int_equal(dr_pr_open("/dev/null", &opts, &dev), 0);
    *state = dev;
    return 0;
}

static int
teardown(void **state)
{
    dr_pr_close(*state);
    return 0;
}

static void
script_answer(const struct dr_test_vector *v)
{
    sgio_mock.data = v->data;
    sgio_mock.data_len = v->len;
}

static void
test_transport_errors(void **state)
{
    struct dr_pr_keys k = {0};

    sgio_mock.sg_io_errno = EIO;
    assert_int_equal(dr_pr_read_keys(*state, &k), -EIO);
    sgio_mock.sg_io_errno = 0;
    sgio_mock.host_status = 0x03; /* DID_TIME_OUT */
    assert_int_equal(dr_pr_read_keys(*state, &k), -ETIMEDOUT);
    sgio_mock.host_status = 0x01; /* DID_NO_CONNECT */
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_TRANSPORT);
    sgio_mock.host_status = 0;
    sgio_mock.driver_status = 0x06; /* DRIVER_TIMEOUT */
    assert_int_equal(dr_pr_read_keys(*state, &k), -ETIMEDOUT);
    sgio_mock.driver_status = 0x01; /* DRIVER_BUSY */
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_TRANSPORT);
    assert_int_equal(sgio_mock.n_sg_io, 5);
    assert_int_equal(dr_pr_last_status(*state)->status, 0xff);
    assert_null(k.keys);
}

static void
test_pr_in_header(void **state)
{
    static const uint8_t cdb[10] = {0x5e, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0};
    struct dr_pr_keys k = {0};

    script_answer(&dr_tv_keys_two);
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    assert_int_equal(sgio_mock.n_sg_io, 1);
    assert_int_equal(sgio_mock.hdr.interface_id, 'S');
    assert_int_equal(sgio_mock.hdr.dxfer_direction, SG_DXFER_FROM_DEV);
    assert_int_equal(sgio_mock.hdr.cmd_len, 10);
    assert_memory_equal(sgio_mock.cdb, cdb, sizeof(cdb));
    assert_int_equal(sgio_mock.hdr.dxfer_len, 1024);
    assert_int_equal(sgio_mock.hdr.timeout, 1234);
    assert_int_equal(sgio_mock.hdr.mx_sb_len, 252);
    assert_non_null(sgio_mock.hdr.sbp);
    assert_int_equal(k.n_keys, 2);
    assert_int_equal(k.keys[1], DR_TV_KEY2);
    dr_pr_keys_free(&k);
}

static void
test_pr_out_header(void **state)
{
    assert_int_equal(dr_pr_register(*state, 0, DR_TV_KEY1, DR_PR_OUT_FLAG_APTPL), 0);
    assert_int_equal(sgio_mock.n_sg_io, 1);
    assert_int_equal(sgio_mock.hdr.dxfer_direction, SG_DXFER_TO_DEV);
    assert_int_equal(sgio_mock.hdr.cmd_len, 10);
    assert_int_equal(sgio_mock.hdr.dxfer_len, 24);
    assert_int_equal(sgio_mock.hdr.timeout, 1234);
    assert_int_equal(sgio_mock.cdb[0], 0x5f);
    assert_int_equal(sgio_mock.cdb[8], 24);
    assert_int_equal(sgio_mock.out[8], 0x64);
    assert_int_equal(sgio_mock.out[15], 0x68);
    assert_int_equal(sgio_mock.out[20], 0x01);
}

static void
test_reservation_conflict_despite_host_status(void **state)
{
    /* The kernel sets DID_NEXUS_FAILURE (0x11) next to status 0x18: the status counts. */
    sgio_mock.status = 0x18;
    sgio_mock.host_status = 0x11;
    assert_int_equal(dr_pr_reserve(*state, DR_TV_KEY1, DR_PR_TYPE_WRITE_EXCLUSIVE_RO),
                     -DR_E_RESERVATION_CONFLICT);
    assert_int_equal(dr_pr_last_status(*state)->status, 0x18);
    assert_int_equal(sgio_mock.n_sg_io, 1);
}

static void
test_check_condition_sense(void **state)
{
    const struct dr_scsi_status *last;

    sgio_mock.status = 0x02;
    sgio_mock.sense = dr_tv_sense_desc_illegal.data;
    sgio_mock.sense_len = dr_tv_sense_desc_illegal.len;
    assert_int_equal(dr_pr_clear(*state, DR_TV_KEY1), -DR_E_ILLEGAL_REQUEST);
    last = dr_pr_last_status(*state);
    assert_true(last->sense.valid);
    assert_int_equal(last->sense.response, 0x72);
    assert_int_equal(last->sense.asc, 0x26);
    assert_true(last->sense.field_valid);
    assert_int_equal(last->sense.field, 1);
}

static void
test_driver_sense_without_status(void **state)
{
    /* Some HBAs report the CHECK CONDITION only as DRIVER_SENSE with sense bytes. */
    sgio_mock.driver_status = 0x08;
    sgio_mock.sense = dr_tv_sense_fixed_ua.data;
    sgio_mock.sense_len = dr_tv_sense_fixed_ua.len;
    assert_int_equal(dr_pr_clear(*state, DR_TV_KEY1), -DR_E_UNIT_ATTENTION);
    /* ua_retries is 1 in this device: two attempts. */
    assert_int_equal(sgio_mock.n_sg_io, 2);
    assert_int_equal(dr_pr_last_status(*state)->status, 0x02);
    assert_int_equal(dr_pr_last_status(*state)->sense.ascq, 0x03);
}

static void
test_residual_count_is_honoured(void **state)
{
    struct dr_pr_keys k = {0};

    /* The buffer holds 24 good bytes, but the HBA says only 20 arrived. */
    script_answer(&dr_tv_keys_two);
    sgio_mock.resid_set = true;
    sgio_mock.resid = 1024 - 20;
    assert_int_equal(dr_pr_read_keys(*state, &k), -DR_E_BAD_RESPONSE);
    /* A nonsensical residual is ignored rather than trusted. */
    sgio_mock.resid = -5;
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    assert_int_equal(k.n_keys, 2);
    dr_pr_keys_free(&k);
    sgio_mock.resid = 4096;
    assert_int_equal(dr_pr_read_keys(*state, &k), 0);
    assert_int_equal(k.n_keys, 2);
    dr_pr_keys_free(&k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transport_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_in_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pr_out_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservation_conflict_despite_host_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_condition_sense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_driver_sense_without_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_residual_count_is_honoured, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
