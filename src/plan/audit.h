/*
 * The GO / NO-GO audit (plumb audit): built-in rules over an environment's resolved resources
 * and its plan, before anything reaches AWS. Every rule has an id, a severity (a failure
 * makes the verdict NO-GO, a warning CONDITIONAL GO), a one-line reason and a fix
 * (docs/audit.md). `audit: { waive: [...] }` in plumb.yaml waives a rule for a resource (or
 * for all), with a reason that the report repeats.
 */
#ifndef PLUMB_PLAN_AUDIT_H
#define PLUMB_PLAN_AUDIT_H

#include <jansson.h>

#include "config/model.h"
#include "plan/plan.h"
#include "util/buf.h"

#define PLUMB_AUDIT_FORMAT_VERSION "1"

enum plumb_audit_verdict {
    PLUMB_AUDIT_GO = 0,
    PLUMB_AUDIT_CONDITIONAL = 1,
    PLUMB_AUDIT_NO_GO = 2,
};

/* The report (docs/audit.md): {format_version, environment, protected, verdict, counts,
 * findings: [{rule, severity, resource, property, reason, fix, waived, waiver}]}. */
int plumb_audit_run(json_t **report, const struct plumb_model *m, const struct plumb_plan *plan);
enum plumb_audit_verdict plumb_audit_verdict(const json_t *report);
/* The summary for people, the verdict last. */
void plumb_audit_render(struct plumb_buf *out, const json_t *report, int color);
/* Every rule: [{id, severity, reason, fix}] (docs and tests). */
json_t *plumb_audit_rules(void);

#endif
