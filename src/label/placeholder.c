/* placeholder, replaced by the subsystem's sources */
typedef int kz__placeholder_label;
