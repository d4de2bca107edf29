// plans.js - what the plans panel shows of GET /api/v1/plans (docs/plans.md): the plans
// in stage order, each with its approvals of the current revision against those it needs.
// Pure: unit-tested under node (test/plans.test.mjs).

export const STAGES = ['concept', 'initial_planning', 'main_planning', 'final_planning', 'execution', 'assessment'];

// {id, title, stage, approved, required, consultation, label} of one plan.
export function planSummary(plan) {
    const approved = (plan.approvals || []).filter((a) => a.decision === 'approve' && a.revision === plan.revision);
    return {
        id: plan.id, title: plan.title, stage: plan.stage, revision: plan.revision,
        approved: approved.length, required: (plan.required_approvals || []).length,
        consultation: plan.consultation, label: plan.label ?? plan.own_label ?? 'UNCLASSIFIED',
    };
}

// The summaries by stage, in the order plans move through them (unknown stages last).
export function byStage(plans) {
    const rank = (s) => (STAGES.includes(s) ? STAGES.indexOf(s) : STAGES.length);
    return plans.map(planSummary).sort((a, b) => rank(a.stage) - rank(b.stage) || a.title.localeCompare(b.title));
}
