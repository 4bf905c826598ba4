// SPDX-License-Identifier: GPL-2.0
/*
 * A compile test of iommulab's upstream-compatible uAPI headers, written
 * the way an upstream program uses <linux/iommufd.h> and upstream's
 * selftest header: every name upstream's headers define (include/uapi/
 * linux/iommufd.h at b4d90dbc4c1b, drivers/iommu/iommufd/iommufd_test.h at
 * 80478a2b450e), spelled as upstream spells it, with upstream's value,
 * structure size and field offsets. A missing or misspelt name, a moved
 * field or a changed value fails the build of the unit tests. C, not C++:
 * upstream's users are C programs.
 */
#include <stddef.h>

#include <iommulab/iommufd.h>
#include <iommulab/iommufd_test.h>

#include "uapi_names.h"

#define SIZE(s, n) _Static_assert(sizeof(struct s) == (n), "sizeof " #s)
#define AT(s, f, off, n)                                                    \
	_Static_assert(offsetof(struct s, f) == (off) &&                    \
			       sizeof(((struct s *)0)->f) == (n),           \
		       #s "." #f)
#define VAL(name, v) _Static_assert((name) == (v), #name)

/* <linux/iommufd.h>: structures */
SIZE(iommu_destroy, 8);
AT(iommu_destroy, size, 0, 4);
AT(iommu_destroy, id, 4, 4);
SIZE(iommu_ioas_alloc, 12);
AT(iommu_ioas_alloc, size, 0, 4);
AT(iommu_ioas_alloc, flags, 4, 4);
AT(iommu_ioas_alloc, out_ioas_id, 8, 4);
SIZE(iommu_iova_range, 16);
AT(iommu_iova_range, start, 0, 8);
AT(iommu_iova_range, last, 8, 8);
SIZE(iommu_ioas_iova_ranges, 32);
AT(iommu_ioas_iova_ranges, size, 0, 4);
AT(iommu_ioas_iova_ranges, ioas_id, 4, 4);
AT(iommu_ioas_iova_ranges, num_iovas, 8, 4);
AT(iommu_ioas_iova_ranges, __reserved, 12, 4);
AT(iommu_ioas_iova_ranges, allowed_iovas, 16, 8);
AT(iommu_ioas_iova_ranges, out_iova_alignment, 24, 8);
SIZE(iommu_ioas_allow_iovas, 24);
AT(iommu_ioas_allow_iovas, size, 0, 4);
AT(iommu_ioas_allow_iovas, ioas_id, 4, 4);
AT(iommu_ioas_allow_iovas, num_iovas, 8, 4);
AT(iommu_ioas_allow_iovas, __reserved, 12, 4);
AT(iommu_ioas_allow_iovas, allowed_iovas, 16, 8);
SIZE(iommu_ioas_map, 40);
AT(iommu_ioas_map, size, 0, 4);
AT(iommu_ioas_map, flags, 4, 4);
AT(iommu_ioas_map, ioas_id, 8, 4);
AT(iommu_ioas_map, __reserved, 12, 4);
AT(iommu_ioas_map, user_va, 16, 8);
AT(iommu_ioas_map, length, 24, 8);
AT(iommu_ioas_map, iova, 32, 8);
SIZE(iommu_ioas_map_file, 40);
AT(iommu_ioas_map_file, size, 0, 4);
AT(iommu_ioas_map_file, flags, 4, 4);
AT(iommu_ioas_map_file, ioas_id, 8, 4);
AT(iommu_ioas_map_file, fd, 12, 4);
AT(iommu_ioas_map_file, start, 16, 8);
AT(iommu_ioas_map_file, length, 24, 8);
AT(iommu_ioas_map_file, iova, 32, 8);
SIZE(iommu_ioas_copy, 40);
AT(iommu_ioas_copy, size, 0, 4);
AT(iommu_ioas_copy, flags, 4, 4);
AT(iommu_ioas_copy, dst_ioas_id, 8, 4);
AT(iommu_ioas_copy, src_ioas_id, 12, 4);
AT(iommu_ioas_copy, length, 16, 8);
AT(iommu_ioas_copy, dst_iova, 24, 8);
AT(iommu_ioas_copy, src_iova, 32, 8);
SIZE(iommu_ioas_unmap, 24);
AT(iommu_ioas_unmap, size, 0, 4);
AT(iommu_ioas_unmap, ioas_id, 4, 4);
AT(iommu_ioas_unmap, iova, 8, 8);
AT(iommu_ioas_unmap, length, 16, 8);
SIZE(iommu_option, 24);
AT(iommu_option, size, 0, 4);
AT(iommu_option, option_id, 4, 4);
AT(iommu_option, op, 8, 2);
AT(iommu_option, __reserved, 10, 2);
AT(iommu_option, object_id, 12, 4);
AT(iommu_option, val64, 16, 8);
SIZE(iommu_vfio_ioas, 12);
AT(iommu_vfio_ioas, size, 0, 4);
AT(iommu_vfio_ioas, ioas_id, 4, 4);
AT(iommu_vfio_ioas, op, 8, 2);
AT(iommu_vfio_ioas, __reserved, 10, 2);
SIZE(iommu_hwpt_vtd_s1, 24);
AT(iommu_hwpt_vtd_s1, flags, 0, 8);
AT(iommu_hwpt_vtd_s1, pgtbl_addr, 8, 8);
AT(iommu_hwpt_vtd_s1, addr_width, 16, 4);
AT(iommu_hwpt_vtd_s1, __reserved, 20, 4);
SIZE(iommu_hwpt_arm_smmuv3, 16);
AT(iommu_hwpt_arm_smmuv3, ste, 0, 16);
SIZE(iommu_hwpt_alloc, 48);
AT(iommu_hwpt_alloc, size, 0, 4);
AT(iommu_hwpt_alloc, flags, 4, 4);
AT(iommu_hwpt_alloc, dev_id, 8, 4);
AT(iommu_hwpt_alloc, pt_id, 12, 4);
AT(iommu_hwpt_alloc, out_hwpt_id, 16, 4);
AT(iommu_hwpt_alloc, __reserved, 20, 4);
AT(iommu_hwpt_alloc, data_type, 24, 4);
AT(iommu_hwpt_alloc, data_len, 28, 4);
AT(iommu_hwpt_alloc, data_uptr, 32, 8);
AT(iommu_hwpt_alloc, fault_id, 40, 4);
AT(iommu_hwpt_alloc, __reserved2, 44, 4);
SIZE(iommu_hw_info_vtd, 24);
AT(iommu_hw_info_vtd, flags, 0, 4);
AT(iommu_hw_info_vtd, __reserved, 4, 4);
AT(iommu_hw_info_vtd, cap_reg, 8, 8);
AT(iommu_hw_info_vtd, ecap_reg, 16, 8);
SIZE(iommu_hw_info_arm_smmuv3, 40);
AT(iommu_hw_info_arm_smmuv3, flags, 0, 4);
AT(iommu_hw_info_arm_smmuv3, __reserved, 4, 4);
AT(iommu_hw_info_arm_smmuv3, idr, 8, 24);
AT(iommu_hw_info_arm_smmuv3, iidr, 32, 4);
AT(iommu_hw_info_arm_smmuv3, aidr, 36, 4);
SIZE(iommu_hw_info_tegra241_cmdqv, 8);
AT(iommu_hw_info_tegra241_cmdqv, flags, 0, 4);
AT(iommu_hw_info_tegra241_cmdqv, version, 4, 1);
AT(iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5, 1);
AT(iommu_hw_info_tegra241_cmdqv, log2vsids, 6, 1);
AT(iommu_hw_info_tegra241_cmdqv, __reserved, 7, 1);
SIZE(iommu_hw_info, 40);
AT(iommu_hw_info, size, 0, 4);
AT(iommu_hw_info, flags, 4, 4);
AT(iommu_hw_info, dev_id, 8, 4);
AT(iommu_hw_info, data_len, 12, 4);
AT(iommu_hw_info, data_uptr, 16, 8);
AT(iommu_hw_info, in_data_type, 24, 4);
AT(iommu_hw_info, out_data_type, 24, 4);
AT(iommu_hw_info, out_max_pasid_log2, 28, 1);
AT(iommu_hw_info, __reserved, 29, 3);
AT(iommu_hw_info, out_capabilities, 32, 8);
SIZE(iommu_hwpt_set_dirty_tracking, 16);
AT(iommu_hwpt_set_dirty_tracking, size, 0, 4);
AT(iommu_hwpt_set_dirty_tracking, flags, 4, 4);
AT(iommu_hwpt_set_dirty_tracking, hwpt_id, 8, 4);
AT(iommu_hwpt_set_dirty_tracking, __reserved, 12, 4);
SIZE(iommu_hwpt_get_dirty_bitmap, 48);
AT(iommu_hwpt_get_dirty_bitmap, size, 0, 4);
AT(iommu_hwpt_get_dirty_bitmap, hwpt_id, 4, 4);
AT(iommu_hwpt_get_dirty_bitmap, flags, 8, 4);
AT(iommu_hwpt_get_dirty_bitmap, __reserved, 12, 4);
AT(iommu_hwpt_get_dirty_bitmap, iova, 16, 8);
AT(iommu_hwpt_get_dirty_bitmap, length, 24, 8);
AT(iommu_hwpt_get_dirty_bitmap, page_size, 32, 8);
AT(iommu_hwpt_get_dirty_bitmap, data, 40, 8);
SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
AT(iommu_hwpt_vtd_s1_invalidate, addr, 0, 8);
AT(iommu_hwpt_vtd_s1_invalidate, npages, 8, 8);
AT(iommu_hwpt_vtd_s1_invalidate, flags, 16, 4);
AT(iommu_hwpt_vtd_s1_invalidate, __reserved, 20, 4);
SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
AT(iommu_viommu_arm_smmuv3_invalidate, cmd, 0, 16);
SIZE(iommu_hwpt_invalidate, 32);
AT(iommu_hwpt_invalidate, size, 0, 4);
AT(iommu_hwpt_invalidate, hwpt_id, 4, 4);
AT(iommu_hwpt_invalidate, data_uptr, 8, 8);
AT(iommu_hwpt_invalidate, data_type, 16, 4);
AT(iommu_hwpt_invalidate, entry_len, 20, 4);
AT(iommu_hwpt_invalidate, entry_num, 24, 4);
AT(iommu_hwpt_invalidate, __reserved, 28, 4);
SIZE(iommu_hwpt_pgfault, 40);
AT(iommu_hwpt_pgfault, flags, 0, 4);
AT(iommu_hwpt_pgfault, dev_id, 4, 4);
AT(iommu_hwpt_pgfault, pasid, 8, 4);
AT(iommu_hwpt_pgfault, grpid, 12, 4);
AT(iommu_hwpt_pgfault, perm, 16, 4);
AT(iommu_hwpt_pgfault, __reserved, 20, 4);
AT(iommu_hwpt_pgfault, addr, 24, 8);
AT(iommu_hwpt_pgfault, length, 32, 4);
AT(iommu_hwpt_pgfault, cookie, 36, 4);
SIZE(iommu_hwpt_page_response, 8);
AT(iommu_hwpt_page_response, cookie, 0, 4);
AT(iommu_hwpt_page_response, code, 4, 4);
SIZE(iommu_fault_alloc, 16);
AT(iommu_fault_alloc, size, 0, 4);
AT(iommu_fault_alloc, flags, 4, 4);
AT(iommu_fault_alloc, out_fault_id, 8, 4);
AT(iommu_fault_alloc, out_fault_fd, 12, 4);
SIZE(iommu_viommu_tegra241_cmdqv, 16);
AT(iommu_viommu_tegra241_cmdqv, out_vintf_mmap_offset, 0, 8);
AT(iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length, 8, 8);
SIZE(iommu_viommu_alloc, 40);
AT(iommu_viommu_alloc, size, 0, 4);
AT(iommu_viommu_alloc, flags, 4, 4);
AT(iommu_viommu_alloc, type, 8, 4);
AT(iommu_viommu_alloc, dev_id, 12, 4);
AT(iommu_viommu_alloc, hwpt_id, 16, 4);
AT(iommu_viommu_alloc, out_viommu_id, 20, 4);
AT(iommu_viommu_alloc, data_len, 24, 4);
AT(iommu_viommu_alloc, __reserved, 28, 4);
AT(iommu_viommu_alloc, data_uptr, 32, 8);
SIZE(iommu_vdevice_alloc, 24);
AT(iommu_vdevice_alloc, size, 0, 4);
AT(iommu_vdevice_alloc, viommu_id, 4, 4);
AT(iommu_vdevice_alloc, dev_id, 8, 4);
AT(iommu_vdevice_alloc, out_vdevice_id, 12, 4);
AT(iommu_vdevice_alloc, virt_id, 16, 8);
SIZE(iommu_ioas_change_process, 8);
AT(iommu_ioas_change_process, size, 0, 4);
AT(iommu_ioas_change_process, __reserved, 4, 4);
SIZE(iommufd_vevent_header, 8);
AT(iommufd_vevent_header, flags, 0, 4);
AT(iommufd_vevent_header, sequence, 4, 4);
SIZE(iommu_vevent_arm_smmuv3, 32);
AT(iommu_vevent_arm_smmuv3, evt, 0, 32);
SIZE(iommu_vevent_tegra241_cmdqv, 16);
AT(iommu_vevent_tegra241_cmdqv, lvcmdq_err_map, 0, 16);
SIZE(iommu_veventq_alloc, 32);
AT(iommu_veventq_alloc, size, 0, 4);
AT(iommu_veventq_alloc, flags, 4, 4);
AT(iommu_veventq_alloc, viommu_id, 8, 4);
AT(iommu_veventq_alloc, type, 12, 4);
AT(iommu_veventq_alloc, veventq_depth, 16, 4);
AT(iommu_veventq_alloc, out_veventq_id, 20, 4);
AT(iommu_veventq_alloc, out_veventq_fd, 24, 4);
AT(iommu_veventq_alloc, __reserved, 28, 4);
SIZE(iommu_hw_queue_alloc, 40);
AT(iommu_hw_queue_alloc, size, 0, 4);
AT(iommu_hw_queue_alloc, flags, 4, 4);
AT(iommu_hw_queue_alloc, viommu_id, 8, 4);
AT(iommu_hw_queue_alloc, type, 12, 4);
AT(iommu_hw_queue_alloc, index, 16, 4);
AT(iommu_hw_queue_alloc, out_hw_queue_id, 20, 4);
AT(iommu_hw_queue_alloc, nesting_parent_iova, 24, 8);
AT(iommu_hw_queue_alloc, length, 32, 8);

/* <linux/iommufd.h>: enum values and command numbers */
VAL(IOMMUFD_CMD_BASE, 128);
VAL(IOMMUFD_CMD_DESTROY, 128);
VAL(IOMMUFD_CMD_IOAS_ALLOC, 129);
VAL(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, 130);
VAL(IOMMUFD_CMD_IOAS_COPY, 131);
VAL(IOMMUFD_CMD_IOAS_IOVA_RANGES, 132);
VAL(IOMMUFD_CMD_IOAS_MAP, 133);
VAL(IOMMUFD_CMD_IOAS_UNMAP, 134);
VAL(IOMMUFD_CMD_OPTION, 135);
VAL(IOMMUFD_CMD_VFIO_IOAS, 136);
VAL(IOMMUFD_CMD_HWPT_ALLOC, 137);
VAL(IOMMUFD_CMD_GET_HW_INFO, 138);
VAL(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING, 139);
VAL(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, 140);
VAL(IOMMUFD_CMD_HWPT_INVALIDATE, 141);
VAL(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, 142);
VAL(IOMMUFD_CMD_IOAS_MAP_FILE, 143);
VAL(IOMMUFD_CMD_VIOMMU_ALLOC, 144);
VAL(IOMMUFD_CMD_VDEVICE_ALLOC, 145);
VAL(IOMMUFD_CMD_IOAS_CHANGE_PROCESS, 146);
VAL(IOMMUFD_CMD_VEVENTQ_ALLOC, 147);
VAL(IOMMUFD_CMD_HW_QUEUE_ALLOC, 148);
VAL(IOMMU_IOAS_MAP_FIXED_IOVA, 1);
VAL(IOMMU_IOAS_MAP_WRITEABLE, 2);
VAL(IOMMU_IOAS_MAP_READABLE, 4);
VAL(IOMMU_OPTION_RLIMIT_MODE, 0);
VAL(IOMMU_OPTION_HUGE_PAGES, 1);
VAL(IOMMU_OPTION_OP_SET, 0);
VAL(IOMMU_OPTION_OP_GET, 1);
VAL(IOMMU_VFIO_IOAS_GET, 0);
VAL(IOMMU_VFIO_IOAS_SET, 1);
VAL(IOMMU_VFIO_IOAS_CLEAR, 2);
VAL(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
VAL(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2);
VAL(IOMMU_HWPT_FAULT_ID_VALID, 4);
VAL(IOMMU_HWPT_ALLOC_PASID, 8);
VAL(IOMMU_VTD_S1_SRE, 1);
VAL(IOMMU_VTD_S1_EAFE, 2);
VAL(IOMMU_VTD_S1_WPE, 4);
VAL(IOMMU_HWPT_DATA_NONE, 0);
VAL(IOMMU_HWPT_DATA_VTD_S1, 1);
VAL(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);
VAL(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, 1);
VAL(IOMMU_HW_INFO_TYPE_NONE, 0);
VAL(IOMMU_HW_INFO_TYPE_DEFAULT, 0);
VAL(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
VAL(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
VAL(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, 3);
VAL(IOMMU_HW_CAP_DIRTY_TRACKING, 1);
VAL(IOMMU_HW_CAP_PCI_PASID_EXEC, 2);
VAL(IOMMU_HW_CAP_PCI_PASID_PRIV, 4);
VAL(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1);
VAL(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 1);
VAL(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 1);
VAL(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
VAL(IOMMU_VTD_INV_FLAGS_LEAF, 1);
VAL(IOMMU_PGFAULT_FLAGS_PASID_VALID, 1);
VAL(IOMMU_PGFAULT_FLAGS_LAST_PAGE, 2);
VAL(IOMMU_PGFAULT_PERM_READ, 1);
VAL(IOMMU_PGFAULT_PERM_WRITE, 2);
VAL(IOMMU_PGFAULT_PERM_EXEC, 4);
VAL(IOMMU_PGFAULT_PERM_PRIV, 8);
VAL(IOMMUFD_PAGE_RESP_SUCCESS, 0);
VAL(IOMMUFD_PAGE_RESP_INVALID, 1);
VAL(IOMMU_VIOMMU_TYPE_DEFAULT, 0);
VAL(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
VAL(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 2);
VAL(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1);
VAL(IOMMU_VEVENTQ_TYPE_DEFAULT, 0);
VAL(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);
VAL(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 2);
VAL(IOMMU_HW_QUEUE_TYPE_DEFAULT, 0);
VAL(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1);
VAL(IOMMU_DESTROY, 0x3b80);
VAL(IOMMU_IOAS_ALLOC, 0x3b81);
VAL(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
VAL(IOMMU_IOAS_ALLOW_IOVAS, 0x3b82);
VAL(IOMMU_IOAS_MAP, 0x3b85);
VAL(IOMMU_IOAS_MAP_FILE, 0x3b8f);
VAL(IOMMU_IOAS_COPY, 0x3b83);
VAL(IOMMU_IOAS_UNMAP, 0x3b86);
VAL(IOMMU_OPTION, 0x3b87);
VAL(IOMMU_VFIO_IOAS, 0x3b88);
VAL(IOMMU_HWPT_ALLOC, 0x3b89);
VAL(IOMMU_GET_HW_INFO, 0x3b8a);
VAL(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
VAL(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);
VAL(IOMMU_HWPT_INVALIDATE, 0x3b8d);
VAL(IOMMU_FAULT_QUEUE_ALLOC, 0x3b8e);
VAL(IOMMU_VIOMMU_ALLOC, 0x3b90);
VAL(IOMMU_VDEVICE_ALLOC, 0x3b91);
VAL(IOMMU_VEVENTQ_ALLOC, 0x3b93);
VAL(IOMMU_HW_QUEUE_ALLOC, 0x3b94);

/* the selftest header */
SIZE(iommu_test_cmd, 72);
AT(iommu_test_cmd, add_reserved, 16, 16);
AT(iommu_test_cmd, mock_domain, 16, 12);
AT(iommu_test_cmd, mock_domain_flags, 16, 16);
AT(iommu_test_cmd, mock_domain_replace, 16, 4);
AT(iommu_test_cmd, check_map, 16, 24);
AT(iommu_test_cmd, check_refs, 16, 24);
AT(iommu_test_cmd, create_access, 16, 8);
AT(iommu_test_cmd, destroy_access_pages, 16, 4);
AT(iommu_test_cmd, access_pages, 16, 32);
AT(iommu_test_cmd, access_rw, 16, 32);
AT(iommu_test_cmd, memory_limit, 16, 4);
AT(iommu_test_cmd, access_replace_ioas, 16, 4);
AT(iommu_test_cmd, dirty, 16, 48);
AT(iommu_test_cmd, check_iotlb, 16, 8);
AT(iommu_test_cmd, trigger_iopf, 16, 24);
AT(iommu_test_cmd, check_dev_cache, 16, 8);
AT(iommu_test_cmd, trigger_vevent, 16, 4);
AT(iommu_test_cmd, pasid_attach, 16, 8);
AT(iommu_test_cmd, pasid_replace, 16, 8);
AT(iommu_test_cmd, pasid_detach, 16, 4);
AT(iommu_test_cmd, pasid_check, 16, 8);
_Static_assert(offsetof(struct iommu_test_cmd, last) == 64, "iommu_test_cmd.last");
_Static_assert(offsetof(struct iommu_test_cmd, add_reserved.start) == 16, "iommu_test_cmd.add_reserved.start");
_Static_assert(offsetof(struct iommu_test_cmd, add_reserved.length) == 24, "iommu_test_cmd.add_reserved.length");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain.out_stdev_id) == 16, "iommu_test_cmd.mock_domain.out_stdev_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain.out_hwpt_id) == 20, "iommu_test_cmd.mock_domain.out_hwpt_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain.out_idev_id) == 24, "iommu_test_cmd.mock_domain.out_idev_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain_flags.out_stdev_id) == 16, "iommu_test_cmd.mock_domain_flags.out_stdev_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain_flags.out_hwpt_id) == 20, "iommu_test_cmd.mock_domain_flags.out_hwpt_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain_flags.out_idev_id) == 24, "iommu_test_cmd.mock_domain_flags.out_idev_id");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain_flags.dev_flags) == 28, "iommu_test_cmd.mock_domain_flags.dev_flags");
_Static_assert(offsetof(struct iommu_test_cmd, mock_domain_replace.pt_id) == 16, "iommu_test_cmd.mock_domain_replace.pt_id");
_Static_assert(offsetof(struct iommu_test_cmd, check_map.iova) == 16, "iommu_test_cmd.check_map.iova");
_Static_assert(offsetof(struct iommu_test_cmd, check_map.length) == 24, "iommu_test_cmd.check_map.length");
_Static_assert(offsetof(struct iommu_test_cmd, check_map.uptr) == 32, "iommu_test_cmd.check_map.uptr");
_Static_assert(offsetof(struct iommu_test_cmd, check_refs.length) == 16, "iommu_test_cmd.check_refs.length");
_Static_assert(offsetof(struct iommu_test_cmd, check_refs.uptr) == 24, "iommu_test_cmd.check_refs.uptr");
_Static_assert(offsetof(struct iommu_test_cmd, check_refs.refs) == 32, "iommu_test_cmd.check_refs.refs");
_Static_assert(offsetof(struct iommu_test_cmd, create_access.out_access_fd) == 16, "iommu_test_cmd.create_access.out_access_fd");
_Static_assert(offsetof(struct iommu_test_cmd, create_access.flags) == 20, "iommu_test_cmd.create_access.flags");
_Static_assert(offsetof(struct iommu_test_cmd, destroy_access_pages.access_pages_id) == 16, "iommu_test_cmd.destroy_access_pages.access_pages_id");
_Static_assert(offsetof(struct iommu_test_cmd, access_pages.flags) == 16, "iommu_test_cmd.access_pages.flags");
_Static_assert(offsetof(struct iommu_test_cmd, access_pages.out_access_pages_id) == 20, "iommu_test_cmd.access_pages.out_access_pages_id");
_Static_assert(offsetof(struct iommu_test_cmd, access_pages.iova) == 24, "iommu_test_cmd.access_pages.iova");
_Static_assert(offsetof(struct iommu_test_cmd, access_pages.length) == 32, "iommu_test_cmd.access_pages.length");
_Static_assert(offsetof(struct iommu_test_cmd, access_pages.uptr) == 40, "iommu_test_cmd.access_pages.uptr");
_Static_assert(offsetof(struct iommu_test_cmd, access_rw.iova) == 16, "iommu_test_cmd.access_rw.iova");
_Static_assert(offsetof(struct iommu_test_cmd, access_rw.length) == 24, "iommu_test_cmd.access_rw.length");
_Static_assert(offsetof(struct iommu_test_cmd, access_rw.uptr) == 32, "iommu_test_cmd.access_rw.uptr");
_Static_assert(offsetof(struct iommu_test_cmd, access_rw.flags) == 40, "iommu_test_cmd.access_rw.flags");
_Static_assert(offsetof(struct iommu_test_cmd, memory_limit.limit) == 16, "iommu_test_cmd.memory_limit.limit");
_Static_assert(offsetof(struct iommu_test_cmd, access_replace_ioas.ioas_id) == 16, "iommu_test_cmd.access_replace_ioas.ioas_id");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.flags) == 16, "iommu_test_cmd.dirty.flags");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.iova) == 24, "iommu_test_cmd.dirty.iova");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.length) == 32, "iommu_test_cmd.dirty.length");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.page_size) == 40, "iommu_test_cmd.dirty.page_size");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.uptr) == 48, "iommu_test_cmd.dirty.uptr");
_Static_assert(offsetof(struct iommu_test_cmd, dirty.out_nr_dirty) == 56, "iommu_test_cmd.dirty.out_nr_dirty");
_Static_assert(offsetof(struct iommu_test_cmd, check_iotlb.id) == 16, "iommu_test_cmd.check_iotlb.id");
_Static_assert(offsetof(struct iommu_test_cmd, check_iotlb.iotlb) == 20, "iommu_test_cmd.check_iotlb.iotlb");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_iopf.dev_id) == 16, "iommu_test_cmd.trigger_iopf.dev_id");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_iopf.pasid) == 20, "iommu_test_cmd.trigger_iopf.pasid");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_iopf.grpid) == 24, "iommu_test_cmd.trigger_iopf.grpid");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_iopf.perm) == 28, "iommu_test_cmd.trigger_iopf.perm");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_iopf.addr) == 32, "iommu_test_cmd.trigger_iopf.addr");
_Static_assert(offsetof(struct iommu_test_cmd, check_dev_cache.id) == 16, "iommu_test_cmd.check_dev_cache.id");
_Static_assert(offsetof(struct iommu_test_cmd, check_dev_cache.cache) == 20, "iommu_test_cmd.check_dev_cache.cache");
_Static_assert(offsetof(struct iommu_test_cmd, trigger_vevent.dev_id) == 16, "iommu_test_cmd.trigger_vevent.dev_id");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_attach.pasid) == 16, "iommu_test_cmd.pasid_attach.pasid");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_attach.pt_id) == 20, "iommu_test_cmd.pasid_attach.pt_id");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_replace.pasid) == 16, "iommu_test_cmd.pasid_replace.pasid");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_replace.pt_id) == 20, "iommu_test_cmd.pasid_replace.pt_id");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_detach.pasid) == 16, "iommu_test_cmd.pasid_detach.pasid");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_check.pasid) == 16, "iommu_test_cmd.pasid_check.pasid");
_Static_assert(offsetof(struct iommu_test_cmd, pasid_check.hwpt_id) == 20, "iommu_test_cmd.pasid_check.hwpt_id");
SIZE(iommu_test_hw_info, 8);
_Static_assert(offsetof(struct iommu_test_hw_info, flags) == 0, "iommu_test_hw_info.flags");
_Static_assert(offsetof(struct iommu_test_hw_info, test_reg) == 4, "iommu_test_hw_info.test_reg");
SIZE(iommu_hwpt_selftest, 4);
_Static_assert(offsetof(struct iommu_hwpt_selftest, iotlb) == 0, "iommu_hwpt_selftest.iotlb");
SIZE(iommu_hwpt_invalidate_selftest, 8);
_Static_assert(offsetof(struct iommu_hwpt_invalidate_selftest, flags) == 0, "iommu_hwpt_invalidate_selftest.flags");
_Static_assert(offsetof(struct iommu_hwpt_invalidate_selftest, iotlb_id) == 4, "iommu_hwpt_invalidate_selftest.iotlb_id");
SIZE(iommu_viommu_selftest, 24);
_Static_assert(offsetof(struct iommu_viommu_selftest, in_data) == 0, "iommu_viommu_selftest.in_data");
_Static_assert(offsetof(struct iommu_viommu_selftest, out_data) == 4, "iommu_viommu_selftest.out_data");
_Static_assert(offsetof(struct iommu_viommu_selftest, out_mmap_offset) == 8, "iommu_viommu_selftest.out_mmap_offset");
_Static_assert(offsetof(struct iommu_viommu_selftest, out_mmap_length) == 16, "iommu_viommu_selftest.out_mmap_length");
SIZE(iommu_viommu_invalidate_selftest, 12);
_Static_assert(offsetof(struct iommu_viommu_invalidate_selftest, flags) == 0, "iommu_viommu_invalidate_selftest.flags");
_Static_assert(offsetof(struct iommu_viommu_invalidate_selftest, vdev_id) == 4, "iommu_viommu_invalidate_selftest.vdev_id");
_Static_assert(offsetof(struct iommu_viommu_invalidate_selftest, cache_id) == 8, "iommu_viommu_invalidate_selftest.cache_id");
SIZE(iommu_viommu_event_selftest, 4);
_Static_assert(offsetof(struct iommu_viommu_event_selftest, virt_id) == 0, "iommu_viommu_event_selftest.virt_id");
VAL(IOMMU_HWPT_DATA_SELFTEST, 0xdead);
VAL(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
VAL(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef);
VAL(IOMMU_HW_INFO_SELFTEST_REGVAL, 0xdeadbeef);
VAL(IOMMU_HW_INFO_TYPE_SELFTEST, 0xfeedbeef);
VAL(IOMMU_HW_QUEUE_TYPE_SELFTEST, 0xdeadbeef);
VAL(IOMMU_TEST_CMD, 0x3ba0);
VAL(IOMMU_TEST_DEV_CACHE_DEFAULT, 0xbaddad);
VAL(IOMMU_TEST_HW_QUEUE_MAX, 2);
VAL(IOMMU_TEST_INVALIDATE_FLAG_ALL, 1);
VAL(IOMMU_TEST_IOTLB_DEFAULT, 0xbadbeef);
VAL(IOMMU_TEST_OP_ACCESS_PAGES, 7);
VAL(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 0xb);
VAL(IOMMU_TEST_OP_ACCESS_RW, 8);
VAL(IOMMU_TEST_OP_ADD_RESERVED, 1);
VAL(IOMMU_TEST_OP_CREATE_ACCESS, 5);
VAL(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6);
VAL(IOMMU_TEST_OP_DEV_CHECK_CACHE, 0x10);
VAL(IOMMU_TEST_OP_DIRTY, 0xd);
VAL(IOMMU_TEST_OP_MD_CHECK_IOTLB, 0xe);
VAL(IOMMU_TEST_OP_MD_CHECK_MAP, 3);
VAL(IOMMU_TEST_OP_MD_CHECK_REFS, 4);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN, 2);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 0xc);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 0xa);
VAL(IOMMU_TEST_OP_PASID_ATTACH, 0x12);
VAL(IOMMU_TEST_OP_PASID_CHECK_HWPT, 0x15);
VAL(IOMMU_TEST_OP_PASID_DETACH, 0x14);
VAL(IOMMU_TEST_OP_PASID_REPLACE, 0x13);
VAL(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 9);
VAL(IOMMU_TEST_OP_TRIGGER_IOPF, 0xf);
VAL(IOMMU_TEST_OP_TRIGGER_VEVENT, 0x11);
VAL(IOMMU_TEST_PASID_RESERVED, 0x400);
VAL(IOMMU_VEVENTQ_TYPE_SELFTEST, 0xbeefbeef);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef);
VAL(IOMMU_VIOMMU_TYPE_SELFTEST, 0xdeadbeef);
VAL(MOCK_ACCESS_RW_SLOW_PATH, 4);
VAL(MOCK_ACCESS_RW_WRITE, 1);
VAL(MOCK_APERTURE_LAST, 0x7fffffff);
VAL(MOCK_APERTURE_START, 0x1000000);
VAL(MOCK_DEV_CACHE_ID_MAX, 3);
VAL(MOCK_DEV_CACHE_NUM, 4);
VAL(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, 1);
VAL(MOCK_FLAGS_ACCESS_SYZ, 0x10000);
VAL(MOCK_FLAGS_ACCESS_WRITE, 1);
VAL(MOCK_FLAGS_DEVICE_HUGE_IOVA, 2);
VAL(MOCK_FLAGS_DEVICE_NO_DIRTY, 1);
VAL(MOCK_FLAGS_DEVICE_PASID, 4);
VAL(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX, 3);
VAL(MOCK_NESTED_DOMAIN_IOTLB_NUM, 4);
VAL(MOCK_PASID_WIDTH, 0x14);

/* Every enum type of <linux/iommufd.h>, by upstream's names. */
#define ENUM(e) _Static_assert(sizeof(enum e) == sizeof(int), "enum " #e)
ENUM(iommu_hw_info_type);
ENUM(iommu_hw_info_vtd_flags);
ENUM(iommu_hw_queue_type);
ENUM(iommu_hwpt_data_type);
ENUM(iommu_hwpt_invalidate_data_type);
ENUM(iommu_hwpt_pgfault_flags);
ENUM(iommu_hwpt_pgfault_perm);
ENUM(iommu_hwpt_vtd_s1_flags);
ENUM(iommu_hwpt_vtd_s1_invalidate_flags);
ENUM(iommu_veventq_flag);
ENUM(iommu_veventq_type);
ENUM(iommu_viommu_type);
ENUM(iommufd_hw_capabilities);
ENUM(iommufd_hw_info_flags);
ENUM(iommufd_hwpt_alloc_flags);
ENUM(iommufd_hwpt_get_dirty_bitmap_flags);
ENUM(iommufd_hwpt_set_dirty_tracking_flags);
ENUM(iommufd_ioas_map_flags);
ENUM(iommufd_option);
ENUM(iommufd_option_ops);
ENUM(iommufd_page_response_code);
ENUM(iommufd_vfio_ioas_op);

/*
 * What upstream's selftest does with the structures at run time: fills
 * them with designated initializers, and reads back the output half of
 * an in/out union.
 */
int iolab_uapi_names_check(void)
{
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
		.in_data_type = IOMMU_HW_INFO_TYPE_SELFTEST,
	};
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
		.fault_id = 1,
	};
	struct iommu_vfio_ioas vfio = {
		.size = sizeof(vfio),
		.op = IOMMU_VFIO_IOAS_CLEAR,
	};
	struct iommu_ioas_map_file map_file = {
		.size = sizeof(map_file),
		.fd = -1,
	};

	if (info.out_data_type != IOMMU_HW_INFO_TYPE_SELFTEST)
		return 1;
	if (!(alloc.flags & IOMMU_HWPT_FAULT_ID_VALID) || alloc.fault_id != 1)
		return 2;
	if (vfio.op != 2 || map_file.fd != -1)
		return 3;
	return 0;
}
