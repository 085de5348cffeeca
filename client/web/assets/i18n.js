// The console's words in English and Chinese; the choice is kept in this
// browser (localStorage).
const WORDS = {
  en: {
    title: 'custody console', signin: 'Sign in', signout: 'Sign out',
    with_cert: 'With my certificate', with_token: 'With a token (read-only roles)',
    cert_file: 'Certificate (cert.pem)', key_file: 'Private key (key.pem)', token: 'Token',
    sign_statement: 'Your browser will sign this statement with your key:',
    home: 'Home', records: 'Records', approvals: 'Approvals', register: 'Register',
    search: 'Search', target: 'Target', officer: 'Officer', device: 'Device', matter: 'Matter',
    text: 'Text', held: 'Under a hold', overdue: 'Overdue', from: 'From', to: 'To',
    archive_number: 'Archive number', agency: 'Agency', start: 'Start', end: 'End',
    flags: 'Flags', objects: 'Footage and documents', segments: 'Timeline',
    gap: 'gap', request_access: 'Request access to the whole record', reason: 'Reason',
    request: 'Request', requester: 'Requester', purpose: 'Purpose', state: 'State',
    approve: 'Approve', deny: 'Deny', nothing: 'Nothing here.', play: 'Play',
    pending: 'Waiting for my approval', health: 'Cluster', actor: 'Actor', action: 'Action',
    subject: 'Subject', time: 'Time', details: 'Details', filter: 'Filter', node: 'Node',
    next: 'Next page', watermark: 'Viewed by', holds: 'Legal holds', record: 'Record',
    signed_in_as: 'Signed in as', refused: 'Refused', unavailable: 'A node is down:',
    sheet: 'Chain-of-custody sheet', print: 'Print', proof: 'Proof',
    proof_ok: 'every event verified against the node\'s signed checkpoint',
    proof_failed: 'FAILED', record_history: 'The record\'s history', approvers: 'Approvers',
    report: 'Report', figure: 'Figure', value: 'Value',
    devices: 'Devices', model: 'Model', held_by: 'Held by', history: 'Check-out history',
    objects_n: 'Objects', used: 'Used', free: 'Free', under_replicated: 'Under-replicated',
    last_scrub: 'Last scrub', offsite: 'Offsite snapshots', size: 'Size', receipt: 'Receipt',
    stations: 'Stations', reported: 'Reported', done: 'done', quarantined: 'quarantined',
    not_filed: 'not filed', in_flight: 'in flight', quarantine: 'Quarantine', file: 'File',
    retry: 'Retry', retry_all: 'Retry all', retry_asked: 'Retry asked; the station does it at its next report',
    recent: 'Last uploads', stations_quarantine: 'Stations with files in quarantine',
  },
  zh: {
    title: '执法记录存证控制台', signin: '登录', signout: '退出',
    with_cert: '使用我的证书', with_token: '使用令牌（只读角色）',
    cert_file: '证书 (cert.pem)', key_file: '私钥 (key.pem)', token: '令牌',
    sign_statement: '浏览器将用您的私钥签署以下声明：',
    home: '首页', records: '执法记录', approvals: '审批', register: '查阅登记',
    search: '检索', target: '对象', officer: '执法人员', device: '设备', matter: '事项',
    text: '关键词', held: '法律保全中', overdue: '逾期', from: '自', to: '至',
    archive_number: '档案号', agency: '单位', start: '开始', end: '结束',
    flags: '标记', objects: '音视频与文书', segments: '时间轴',
    gap: '中断', request_access: '申请调阅整个记录', reason: '事由',
    request: '申请', requester: '申请人', purpose: '用途', state: '状态',
    approve: '批准', deny: '驳回', nothing: '暂无。', play: '播放',
    pending: '待我审批', health: '集群', actor: '操作人', action: '操作',
    subject: '对象', time: '时间', details: '详情', filter: '筛选', node: '节点',
    next: '下一页', watermark: '查阅人', holds: '法律保全', record: '记录',
    signed_in_as: '当前用户', refused: '被拒绝', unavailable: '节点不可用：',
    sheet: '证据保管链清单', print: '打印', proof: '证明',
    proof_ok: '全部事件已对照节点签名检查点验证', proof_failed: '验证失败',
    record_history: '记录的历史', approvers: '审批人',
    report: '统计报告', figure: '指标', value: '数值',
    devices: '执法记录仪', model: '型号', held_by: '领用人', history: '领用记录',
    objects_n: '对象数', used: '已用', free: '可用', under_replicated: '副本不足',
    last_scrub: '最近巡检', offsite: '异地备份快照', size: '大小', receipt: '回执',
    stations: '采集站', reported: '上报于', done: '已完成', quarantined: '已隔离',
    not_filed: '未归档', in_flight: '上传中', quarantine: '隔离区', file: '文件',
    retry: '重试', retry_all: '全部重试', retry_asked: '已请求重试，采集站将在下次上报时执行',
    recent: '最近上传', stations_quarantine: '有隔离文件的采集站',
  },
};

let lang = localStorage.getItem('custody-lang') || 'zh';
export const t = (k) => (WORDS[lang] && WORDS[lang][k]) || WORDS.en[k] || k;
export const language = () => lang;
export function setLanguage(l) {
  lang = l;
  localStorage.setItem('custody-lang', l);
}
