package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"kyoyu"
)

// scenario is one kind of incident: the classification it carries and the
// phrases its reports are assembled from. {sys} is the affected system,
// {mal} a malware family, {n} a number.
type scenario struct {
	weight     int
	eventClass []string
	causes     [][]string
	importance []string
	symptoms   []string
	details    []string
	impacts    []string
	actions    []string
	timeline   []string
	lessons    []string
	press      string // press-release title, if this kind is published
}

// scenarios are weighted roughly as the kinds of incidents the handbook's
// examples and public reports mention most: mail, intrusion, ransomware,
// leaks, DDoS, then failures and mistakes.
var scenarios = []scenario{
	{ // 不審メール
		weight: 18, eventClass: []string{"precursor", "malware_infection"}, causes: [][]string{{"suspicious_email"}, {"suspicious_email", "suspicious_file"}},
		importance: []string{"info", "advisory"},
		symptoms: []string{"取引先を装った不審メールの受信を確認した", "標的型攻撃メールと思われる不審メールを複数の職員が受信した",
			"請求書を装ったマクロ付き文書が添付された不審メールを受信した", "実在する担当者名を騙った不審メールが{n}通届いていることを確認した"},
		details: []string{"添付ファイルを開封した端末1台で{mal}と思われる通信を検知した。", "メール本文のURLは偽のログインページへ誘導するものであった。",
			"差出人アドレスは正規ドメインに類似した詐称ドメインであった。", "開封した職員はおらず、メールゲートウェイで隔離済みである。"},
		impacts:  []string{"業務への影響は確認されていない。", "感染端末からの情報漏えいの有無を調査中である。", "現時点で情報の漏洩は確認されていない。"},
		actions:  []string{"全職員へ注意喚起を行い、送信元ドメインを受信拒否に設定した。", "該当端末をネットワークから隔離し、フォレンジック調査を開始した。"},
		timeline: []string{"不審メールの受信を職員が報告", "メールゲートウェイで同種メールを隔離", "全職員へ注意喚起を発出", "該当端末を隔離"},
		lessons:  []string{"マクロ付き文書の実行制限を全端末に適用した。", "訓練メールによる定期的な教育を継続する。"},
	},
	{ // ランサムウェア
		weight: 10, eventClass: []string{"availability", "malware_infection"}, causes: [][]string{{"vulnerability"}, {"suspicious_email"}, {"vulnerability", "improper_operation"}},
		importance: []string{"warning", "advisory"},
		symptoms: []string{"ランサムウェアによるファイルの暗号化を確認した", "{sys}のサーバ群がランサムウェアに感染し、ファイルが暗号化された",
			"複数のサーバで拡張子が変更され、身代金を要求する脅迫文が表示された"},
		details: []string{"攻撃者はVPN装置の脆弱性を悪用して侵入したとみられる。", "{mal}の亜種とみられ、バックアップサーバの一部も暗号化されていた。",
			"二重恐喝型であり、窃取したとするデータのリーク予告があった。"},
		impacts: []string{"{sys}が停止し、業務の一部を手作業で継続している。", "約{n}件の個人情報が漏えいした可能性がある。",
			"サービスの提供に最大{n}時間の遅延が生じた。"},
		actions: []string{"影響範囲のサーバを停止し、外部専門事業者と復旧作業を進めている。", "警察に被害を相談し、バックアップからの復元を開始した。"},
		timeline: []string{"サーバ監視でファイル暗号化の異常を検知", "感染サーバをネットワークから切り離し", "外部専門事業者に調査を依頼",
			"警察へ相談", "バックアップからの復元を開始", "主要業務を再開"},
		lessons: []string{"オフラインバックアップを導入し、復元手順を訓練した。", "VPN装置の更新管理を外部委託先任せにせず自ら確認する体制とした。"},
		press:   "ランサムウェア被害の発生について",
	},
	{ // 不正侵入
		weight: 12, eventClass: []string{"intrusion"}, causes: [][]string{{"vulnerability"}, {"id_spoofing"}, {"vulnerability", "id_spoofing"}},
		importance: []string{"warning", "advisory", "info"},
		symptoms: []string{"{sys}への外部からの不正な侵入を確認した", "VPN装置の既知の脆弱性を突いた不正アクセスにより、保守用セグメントへの侵入を確認した",
			"管理者アカウントを用いた不審なログインと、{sys}への侵入の痕跡を確認した", "公開サーバに対する侵入の試行が成功していたことが判明した"},
		details: []string{"攻撃元IPアドレスは海外のホスティング事業者のものであった。", "侵入後、内部の端末に対する探索活動が行われていた。",
			"窃取された認証情報が用いられた可能性がある。", "Webシェルが設置されていたことを確認した。"},
		impacts:  []string{"制御系への影響は現時点で確認されていない。", "利用者情報の閲覧の有無を調査中である。", "業務への影響はない。"},
		actions:  []string{"該当機器を遮断し、認証情報を全て変更した。", "脆弱性を修正するファームウェアを適用した。", "ログの保全を行い、侵入経路を調査している。"},
		timeline: []string{"不審なログインを検知", "該当セグメントを遮断", "認証情報を一斉変更", "ファームウェアを更新", "侵入経路の調査を完了"},
		lessons:  []string{"リモート保守用VPNの多要素認証化と、脆弱性情報の確認手順を見直した。", "管理者アカウントの棚卸しを四半期ごとに行う。"},
	},
	{ // 情報漏えい（表記ゆれを両方使う）
		weight: 9, eventClass: []string{"confidentiality"}, causes: [][]string{{"info_theft"}, {"user_error"}, {"insider"}, {"contractor_mismanagement"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"顧客情報の漏えいの可能性を確認した", "{sys}から個人情報が外部に漏洩した可能性があることが判明した",
			"委託先のサーバから当社の業務データが漏えいしていたことが判明した", "職員が業務データを私物の記録媒体に持ち出していたことが判明した"},
		details: []string{"漏洩した可能性のある情報は、氏名、住所、電話番号等である。", "外部のセキュリティ研究者からの連絡により発覚した。",
			"アクセス制御の設定不備により、認証なしで閲覧可能な状態であった。"},
		impacts:  []string{"対象は最大{n}件である。", "現時点で不正利用の報告はない。", "影響を受けた利用者への個別通知を準備している。"},
		actions:  []string{"公開設定を修正し、アクセスログを調査している。", "個人情報保護委員会へ報告した。", "委託先に対し調査報告を求めている。"},
		timeline: []string{"外部から情報漏えいの指摘を受領", "公開設定を修正", "アクセスログの解析を開始", "個人情報保護委員会へ報告", "対象者への通知を開始"},
		lessons:  []string{"委託先の設定変更を定期的に点検する契約とした。", "記録媒体の利用を許可制とした。"},
		press:    "個人情報漏えいの可能性に関するお知らせ",
	},
	{ // DDoS
		weight: 9, eventClass: []string{"availability"}, causes: [][]string{{"dos"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"DDoS攻撃により{sys}への接続が困難となった", "公開Webサイトに対する大量のアクセスを観測し、応答遅延が発生した",
			"DNSサーバに対するDDoS攻撃を受け、名前解決に障害が生じた"},
		details:  []string{"最大で毎秒{n}万件のリクエストを観測した。", "ハクティビストを名乗る集団がSNS上で犯行を示唆した。", "攻撃元は多数の国に分散していた。"},
		impacts:  []string{"約{n}分間、サービスが利用しにくい状態となった。", "窓口業務への影響はない。"},
		actions:  []string{"上位回線事業者と連携し、通信の遮断を行った。", "CDNのDDoS対策機能を有効化した。"},
		timeline: []string{"アクセス急増を監視で検知", "上位回線事業者へフィルタリングを依頼", "CDNの防御設定を変更", "通信量が平常に戻ったことを確認"},
		lessons:  []string{"DDoS対策サービスの常時有効化を検討する。"},
	},
	{ // Webサイト改ざん
		weight: 5, eventClass: []string{"integrity"}, causes: [][]string{{"vulnerability"}, {"improper_operation"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"公開Webサイトの改ざんを確認した", "Webサイトのトップページが改竄され、不審なスクリプトが埋め込まれていた",
			"CMSの脆弱性を悪用したWebサイトの改ざんが発生した"},
		details:  []string{"閲覧者を不審なサイトへ誘導するスクリプトが挿入されていた。", "CMSのプラグインが古い版のままであった。"},
		impacts:  []string{"改ざんされていた時間は約{n}時間である。", "閲覧者への被害は確認されていない。"},
		actions:  []string{"Webサイトを一時閉鎖し、正常なデータから復旧した。", "CMSとプラグインを最新版に更新した。"},
		timeline: []string{"利用者から表示の異常について連絡", "Webサイトを一時閉鎖", "改ざん箇所を特定", "正常データから復旧し公開を再開"},
		lessons:  []string{"改ざん検知の仕組みを導入した。"},
		press:    "当社Webサイトの改ざんについて",
	},
	{ // 不正ログイン
		weight: 7, eventClass: []string{"intrusion", "confidentiality"}, causes: [][]string{{"id_spoofing"}, {"id_spoofing", "user_mismanagement"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"リスト型攻撃による利用者アカウントへの不正ログインを確認した", "{sys}において第三者によるなりすましログインを確認した",
			"クラウドメールの管理者アカウントへの不正ログインを確認した"},
		details:  []string{"ログイン試行は約{n}万回に及んだ。", "他サービスから流出したとみられるIDとパスワードの組が使われた。", "多要素認証が設定されていないアカウントが狙われた。"},
		impacts:  []string{"約{n}件のアカウントで不正ログインが成功した。", "金銭的な被害は確認されていない。"},
		actions:  []string{"該当アカウントのパスワードを初期化し、利用者へ連絡した。", "攻撃元IPアドレスからのアクセスを遮断した。"},
		timeline: []string{"ログイン失敗の急増を検知", "攻撃元を遮断", "該当アカウントを停止", "利用者への連絡を完了"},
		lessons:  []string{"多要素認証を全利用者に必須とした。"},
	},
	{ // 設定誤り・操作ミス
		weight: 6, eventClass: []string{"availability", "confidentiality"}, causes: [][]string{{"user_error"}, {"improper_operation"}, {"contractor_mismanagement"}},
		importance: []string{"info"},
		symptoms: []string{"設定変更作業の誤りにより{sys}が停止した", "作業手順の誤りにより、{sys}の一部機能が利用できなくなった",
			"メールの誤送信により、取引先の連絡先が他の宛先に開示された"},
		details:  []string{"委託先の作業員が本番環境を検証環境と誤認して作業した。", "変更手順書の確認が形骸化していた。"},
		impacts:  []string{"約{n}分間、サービスが停止した。", "影響を受けた利用者は約{n}名である。"},
		actions:  []string{"設定を元に戻し、サービスを再開した。", "作業手順を見直し、ダブルチェックを徹底した。"},
		timeline: []string{"作業開始", "サービス停止を検知", "設定を切り戻し", "サービス再開を確認"},
		lessons:  []string{"本番環境の作業は二名で実施することとした。"},
	},
	{ // 機器故障
		weight: 8, eventClass: []string{"availability"}, causes: [][]string{{"equipment_failure"}},
		importance: []string{"info"},
		symptoms: []string{"ネットワーク機器の故障により{sys}が停止した", "ストレージ装置の障害により{sys}の処理が遅延した",
			"電源装置の故障により{sys}が一時停止した"},
		details:  []string{"冗長構成の切替えが正常に動作しなかった。", "ファームウェアの不具合が原因とみられる。"},
		impacts:  []string{"約{n}時間、サービスの一部が利用できなかった。", "サービス維持レベルの逸脱には至っていない。"},
		actions:  []string{"故障機器を交換し、サービスを復旧した。", "保守事業者と原因を調査している。"},
		timeline: []string{"監視システムで機器の異常を検知", "予備機への切替えを試行", "故障機器を交換", "サービス復旧を確認"},
		lessons:  []string{"冗長構成の切替え試験を年2回実施する。"},
	},
	{ // 災害
		weight: 3, eventClass: []string{"availability"}, causes: [][]string{{"disaster_or_disease"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"地震に伴う停電により{sys}が停止した", "台風による浸水でデータセンターの一部設備が停止した",
			"大雨による回線断で{sys}が利用できなくなった"},
		details:  []string{"非常用発電機は正常に起動したが、一部の回線が断となった。", "バックアップセンターへの切替えを実施した。"},
		impacts:  []string{"約{n}時間、一部地域でサービスが利用できなかった。"},
		actions:  []string{"回線事業者の復旧を待って順次サービスを再開した。"},
		timeline: []string{"地震発生", "停電を確認し非常用電源へ切替え", "バックアップセンターへ切替え", "全サービスの復旧を確認"},
		lessons:  []string{"事業継続計画の見直しを行う。"},
	},
	{ // 波及
		weight: 3, eventClass: []string{"availability"}, causes: [][]string{{"spillover"}},
		importance: []string{"info"},
		symptoms:   []string{"利用しているクラウドサービスの大規模障害により{sys}が停止した", "通信事業者の障害の影響で{sys}が利用できなくなった"},
		details:    []string{"クラウド事業者の特定リージョンで障害が発生した。", "他分野の事業者にも同様の影響が生じている。"},
		impacts:    []string{"約{n}時間、サービスが利用できなかった。"},
		actions:    []string{"代替手段で業務を継続し、事業者の復旧後に正常性を確認した。"},
		timeline:   []string{"サービス停止を検知", "クラウド事業者の障害情報を確認", "代替手段で業務継続", "復旧を確認"},
		lessons:    []string{"複数リージョンでの冗長化を検討する。"},
	},
	{ // 脆弱性・予兆
		weight: 6, eventClass: []string{"precursor"}, causes: [][]string{{"vulnerability"}},
		importance: []string{"warning", "advisory", "info"},
		symptoms: []string{"使用中の{sys}に緊急度の高い脆弱性が公表された", "脆弱性を狙った探索的な通信を多数観測した",
			"外部機関から当社の機器に脆弱性が残存しているとの通報を受けた"},
		details:  []string{"CVSS基本値{n}.8の脆弱性であり、悪用が確認されている。", "攻撃コードが公開されている。"},
		impacts:  []string{"現時点で侵入の痕跡は確認されていない。"},
		actions:  []string{"修正プログラムを適用し、暫定的にアクセス元を制限した。", "ベンダーと適用計画を調整している。"},
		timeline: []string{"脆弱性情報を確認", "影響機器を特定", "暫定対策を実施", "修正プログラムを適用"},
		lessons:  []string{"資産管理台帳と脆弱性情報の突合を自動化した。"},
	},
	{ // 不審ファイル・サイト
		weight: 4, eventClass: []string{"malware_infection", "code_execution"}, causes: [][]string{{"suspicious_file"}, {"suspicious_site"}},
		importance: []string{"advisory", "info"},
		symptoms: []string{"業務端末が{mal}に感染していることを確認した", "不審なサイトの閲覧により業務端末で不正なプログラムが実行された",
			"外部から持ち込まれたUSBメモリを介して端末がマルウェアに感染した"},
		details:  []string{"EDRが不審なプロセスの実行を検知した。", "感染端末からC2サーバへの通信が試みられていた。"},
		impacts:  []string{"感染は端末1台にとどまっている。", "情報の漏えいは確認されていない。"},
		actions:  []string{"端末を初期化し、同種の通信がないか全社で確認した。"},
		timeline: []string{"EDRが不審な挙動を検知", "端末を隔離", "C2通信先を遮断", "端末を初期化"},
		lessons:  []string{"外部記録媒体の利用を制限した。"},
	},
	{ // 内部不正
		weight: 2, eventClass: []string{"confidentiality"}, causes: [][]string{{"insider"}},
		importance: []string{"info"},
		symptoms:   []string{"元従業員による顧客情報の不正な持ち出しが判明した", "職員が権限を越えて{sys}の情報を閲覧していたことが判明した"},
		details:    []string{"退職前に大量のデータをダウンロードしていた。", "アクセスログの定期点検で発覚した。"},
		impacts:    []string{"対象となる情報は約{n}件である。"},
		actions:    []string{"警察に相談し、法的措置を検討している。"},
		timeline:   []string{"アクセスログの点検で異常を発見", "関係者へのヒアリング", "警察へ相談"},
		lessons:    []string{"退職予定者の権限を早期に縮小する運用とした。"},
	},
	{ // 原因不明
		weight: 2, eventClass: []string{"other", "availability"}, causes: [][]string{{"unknown"}, {"other"}},
		importance: []string{"info"},
		symptoms:   []string{"原因不明の通信断により{sys}が一時利用できなくなった", "{sys}で原因不明の処理遅延が発生した"},
		details:    []string{"現時点でサイバー攻撃の痕跡は確認されていない。"},
		impacts:    []string{"約{n}分間、影響が生じた。"},
		actions:    []string{"ログを保全し、原因を調査している。"},
		timeline:   []string{"異常を検知", "ログを保全", "サービス再開"},
		lessons:    []string{"監視項目を追加した。"},
	},
}

var malware = []string{"Emotet", "LockBit", "BlackCat", "Qakbot", "PlugX", "Cobalt Strike", "AsyncRAT", "Akira", "Phobos", "IcedID"}

// systems of each sector; genericSystems serve every sector.
var sectorSystems = map[string][]string{
	"info_comm":   {"加入者管理システム", "コアネットワークの認証基盤", "番組送出システム", "顧客向けポータル", "ネットワーク監視装置"},
	"finance":     {"インターネットバンキング", "勘定系システム", "ATM監視システム", "証券取引システム", "保険金支払システム"},
	"aviation":    {"予約発券システム", "運航管理システム", "整備管理システム", "搭乗手続システム"},
	"airport":     {"旅客案内表示システム", "手荷物搬送システム", "空港ビル管理システム"},
	"railway":     {"座席予約システム", "運行管理システム", "自動改札システム", "乗務員管理システム"},
	"electricity": {"給電指令所の監視端末", "営業所の顧客管理システム", "発電所の保守用端末", "スマートメーター通信基盤"},
	"gas":         {"ガス製造所の監視制御システム", "料金システム", "保安センターの受付システム"},
	"government":  {"住民情報システム", "庁内LAN", "電子申請システム", "ふるさと納税サイト", "LGWAN接続端末"},
	"medical":     {"電子カルテシステム", "医事会計システム", "画像診断システム", "地域医療連携ネットワーク"},
	"water":       {"浄水場の監視制御システム", "料金システム", "配水管理システム"},
	"logistics":   {"輸送管理システム", "倉庫管理システム", "ターミナル作業システム", "配送追跡サイト"},
	"chemical":    {"プラントの制御システム", "生産管理システム", "工場ネットワーク"},
	"credit":      {"カード決済システム", "会員向けWebサイト", "不正利用検知システム"},
	"petroleum":   {"製油所の制御システム", "出荷管理システム", "受発注システム"},
	"port":        {"港湾物流情報システム", "コンテナターミナル管理システム", "荷役機械の制御システム"},
}

var genericSystems = []string{"社内メールサーバ", "ファイルサーバ", "業務用PC", "VPN装置", "公開Webサーバ", "Active Directoryサーバ", "クラウドストレージ"}

var departments = []string{"情報システム部", "情報セキュリティ室", "総務部", "リスク管理部", "システム運用センター", "CSIRT"}

var familyNames = []string{"佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口",
	"松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川", "前田", "岡田",
	"長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本"}

var givenNames = []string{"翔太", "大輔", "健一", "直樹", "美咲", "陽子", "恵", "拓也", "和也", "由美", "裕子", "誠", "亮", "彩", "浩二",
	"智子", "達也", "真由美", "洋平", "愛", "修", "明美", "聡", "香織"}

var otherBodies = []string{"", "", "", "警察に相談済み。", "個人情報保護委員会へ報告済み。", "JPCERT/CCへ情報提供済み。", "所轄の警察署へ被害届を提出した。"}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func personName(r *rand.Rand) string { return pick(r, familyNames) + " " + pick(r, givenNames) }

// fill replaces the placeholders of a phrase.
func fill(r *rand.Rand, s, sys string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	s = strings.ReplaceAll(s, "{sys}", sys)
	s = strings.ReplaceAll(s, "{mal}", pick(r, malware))
	return strings.ReplaceAll(s, "{n}", fmt.Sprint(2+r.IntN(98)))
}

// jstStamp writes a time as the form's timeline does ("10/3 09:15").
func jstStamp(t time.Time) string {
	t = t.In(kyoyu.JST)
	return fmt.Sprintf("%d/%d %02d:%02d", int(t.Month()), t.Day(), t.Hour(), t.Minute())
}

func pickScenario(r *rand.Rand) *scenario {
	total := 0
	for i := range scenarios {
		total += scenarios[i].weight
	}
	n := r.IntN(total)
	for i := range scenarios {
		if n < scenarios[i].weight {
			return &scenarios[i]
		}
		n -= scenarios[i].weight
	}
	return &scenarios[len(scenarios)-1]
}
