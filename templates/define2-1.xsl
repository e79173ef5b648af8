<?xml version="1.0" encoding="UTF-8"?>
<!-- cdisc_als stylesheet for Define-XML 2.1 (with Analysis Results Metadata 1.0): renders define.xml as a
     page with the datasets, their variables, value-level metadata, analysis results, codelists, methods
     and comments. XSLT 1.0, so that browsers can apply it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:odm="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1"
                xmlns:arm="http://www.cdisc.org/ns/arm/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink"
                exclude-result-prefixes="odm def arm xlink">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:key name="item" match="odm:ItemDef" use="@OID"/>
  <xsl:key name="method" match="odm:MethodDef" use="@OID"/>
  <xsl:key name="comment" match="def:CommentDef" use="@OID"/>
  <xsl:key name="valuelist" match="def:ValueListDef" use="@OID"/>
  <xsl:key name="where" match="def:WhereClauseDef" use="@OID"/>
  <xsl:key name="leaf" match="def:leaf" use="@ID"/>
  <xsl:key name="group" match="odm:ItemGroupDef" use="@OID"/>

  <xsl:variable name="mdv" select="/odm:ODM/odm:Study/odm:MetaDataVersion"/>

  <xsl:template match="/">
    <html>
      <head>
        <meta charset="utf-8"/>
        <title><xsl:value-of select="$mdv/@Name"/></title>
        <style>
          body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;margin-bottom:1.5em}
          td,th{border:1px solid #bbb;padding:2px 6px;font-size:12px;vertical-align:top} th{background:#e8eef6}
          h2{margin-top:1.5em} .note{color:#555}
        </style>
      </head>
      <body>
        <h1><xsl:value-of select="/odm:ODM/odm:Study/odm:GlobalVariables/odm:StudyName"/>:
          <xsl:value-of select="$mdv/@Description"/></h1>
        <p><xsl:value-of select="/odm:ODM/odm:Study/odm:GlobalVariables/odm:StudyDescription"/></p>
        <p class="note">Define-XML <xsl:value-of select="$mdv/@def:DefineVersion"/>, created
          <xsl:value-of select="/odm:ODM/@CreationDateTime"/> by <xsl:value-of select="/odm:ODM/@SourceSystem"/>
          <xsl:text> </xsl:text><xsl:value-of select="/odm:ODM/@SourceSystemVersion"/>.
          <xsl:for-each select="$mdv/def:Standards/def:Standard">
            <xsl:value-of select="@Name"/><xsl:text> </xsl:text><xsl:value-of select="@PublishingSet"/>
            <xsl:text> </xsl:text><xsl:value-of select="@Version"/><xsl:if test="position() != last()">; </xsl:if>
          </xsl:for-each></p>
        <xsl:call-template name="datasets"/>
        <xsl:apply-templates select="$mdv/odm:ItemGroupDef"/>
        <xsl:if test="$mdv/def:ValueListDef"><xsl:call-template name="valuelists"/></xsl:if>
        <xsl:if test="$mdv/arm:AnalysisResultDisplays"><xsl:call-template name="analysis-results"/></xsl:if>
        <xsl:call-template name="codelists"/>
        <xsl:call-template name="methods"/>
        <xsl:call-template name="comments"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="datasets">
    <h2>Datasets</h2>
    <table>
      <tr><th>Dataset</th><th>Description</th><th>Class</th><th>Structure</th><th>Keys</th><th>Comment</th><th>Location</th></tr>
      <xsl:for-each select="$mdv/odm:ItemGroupDef">
        <tr>
          <td><a href="#{@OID}"><xsl:value-of select="@Name"/></a></td>
          <td><xsl:value-of select="odm:Description/odm:TranslatedText"/></td>
          <td><xsl:value-of select="def:Class/@Name"/></td>
          <td><xsl:value-of select="@def:Structure"/></td>
          <td>
            <xsl:for-each select="odm:ItemRef[@KeySequence]">
              <xsl:sort select="@KeySequence" data-type="number"/>
              <xsl:value-of select="key('item', @ItemOID)/@Name"/><xsl:if test="position() != last()">, </xsl:if>
            </xsl:for-each>
          </td>
          <td><xsl:value-of select="key('comment', @def:CommentOID)/odm:Description/odm:TranslatedText"/></td>
          <td><a href="{def:leaf/@xlink:href}"><xsl:value-of select="def:leaf/def:title"/></a></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="odm:ItemGroupDef">
    <h2 id="{@OID}"><xsl:value-of select="@Name"/>: <xsl:value-of select="odm:Description/odm:TranslatedText"/></h2>
    <table>
      <tr><th>Variable</th><th>Label</th><th>Key</th><th>Type</th><th>Length</th><th>Format</th>
        <th>Controlled terms</th><th>Origin</th><th>Derivation / comment</th></tr>
      <xsl:for-each select="odm:ItemRef">
        <xsl:variable name="item" select="key('item', @ItemOID)"/>
        <tr>
          <td><xsl:value-of select="$item/@Name"/></td>
          <td><xsl:value-of select="$item/odm:Description/odm:TranslatedText"/></td>
          <td><xsl:value-of select="@KeySequence"/></td>
          <td><xsl:value-of select="$item/@DataType"/></td>
          <td><xsl:value-of select="$item/@Length"/></td>
          <td><xsl:value-of select="$item/@def:DisplayFormat"/></td>
          <td>
            <xsl:if test="$item/odm:CodeListRef">
              <a href="#{$item/odm:CodeListRef/@CodeListOID}"><xsl:value-of select="$item/odm:CodeListRef/@CodeListOID"/></a>
            </xsl:if>
            <xsl:if test="$item/def:ValueListRef">
              <xsl:text> </xsl:text><a href="#{$item/def:ValueListRef/@ValueListOID}">value-level</a>
            </xsl:if>
          </td>
          <td><xsl:value-of select="$item/def:Origin/@Type"/>
            <xsl:if test="$item/def:Origin/odm:Description">: <xsl:value-of select="$item/def:Origin/odm:Description/odm:TranslatedText"/></xsl:if></td>
          <td><xsl:value-of select="key('method', @MethodOID)/odm:Description/odm:TranslatedText"/>
            <xsl:if test="$item/@def:CommentOID"><br/><em><xsl:value-of select="key('comment', $item/@def:CommentOID)/odm:Description/odm:TranslatedText"/></em></xsl:if></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template name="valuelists">
    <h2>Value-level metadata</h2>
    <xsl:for-each select="$mdv/def:ValueListDef">
      <h3 id="{@OID}"><xsl:value-of select="@OID"/></h3>
      <table>
        <tr><th>Where</th><th>Label</th><th>Type</th><th>Length</th><th>Origin</th><th>Derivation</th></tr>
        <xsl:for-each select="odm:ItemRef">
          <xsl:variable name="item" select="key('item', @ItemOID)"/>
          <tr>
            <td><xsl:for-each select="key('where', def:WhereClauseRef/@WhereClauseOID)/odm:RangeCheck">
              <xsl:value-of select="key('item', @def:ItemOID)/@Name"/> = <xsl:value-of select="odm:CheckValue"/>
              <xsl:if test="position() != last()"> and </xsl:if></xsl:for-each></td>
            <td><xsl:value-of select="$item/odm:Description/odm:TranslatedText"/></td>
            <td><xsl:value-of select="$item/@DataType"/></td>
            <td><xsl:value-of select="$item/@Length"/></td>
            <td><xsl:value-of select="$item/def:Origin/@Type"/></td>
            <td><xsl:value-of select="key('method', @MethodOID)/odm:Description/odm:TranslatedText"/></td>
          </tr>
        </xsl:for-each>
      </table>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="analysis-results">
    <h2>Analysis results</h2>
    <xsl:for-each select="$mdv/arm:AnalysisResultDisplays/arm:ResultDisplay">
      <h3 id="{@OID}"><xsl:value-of select="@Name"/>: <xsl:value-of select="odm:Description/odm:TranslatedText"/></h3>
      <p><xsl:for-each select="def:DocumentRef"><a href="{key('leaf', @leafID)/@xlink:href}"><xsl:value-of select="key('leaf', @leafID)/def:title"/></a></xsl:for-each></p>
      <table>
        <tr><th>Analysis</th><th>Reason / purpose</th><th>Dataset, selection and variables</th><th>Method</th><th>Program</th></tr>
        <xsl:for-each select="arm:AnalysisResult">
          <tr>
            <td><xsl:value-of select="odm:Description/odm:TranslatedText"/></td>
            <td><xsl:value-of select="@AnalysisReason"/>; <xsl:value-of select="@AnalysisPurpose"/></td>
            <td><xsl:for-each select="arm:AnalysisDatasets/arm:AnalysisDataset">
                <xsl:value-of select="key('group', @ItemGroupOID)/@Name"/>
                <xsl:for-each select="key('where', def:WhereClauseRef/@WhereClauseOID)/odm:RangeCheck">
                  <xsl:if test="position() = 1"> where </xsl:if>
                  <xsl:value-of select="key('item', @def:ItemOID)/@Name"/> = <xsl:value-of select="odm:CheckValue"/>
                  <xsl:if test="position() != last()"> and </xsl:if></xsl:for-each>;
                <xsl:for-each select="arm:AnalysisVariable"><xsl:value-of select="key('item', @ItemOID)/@Name"/>
                  <xsl:if test="position() != last()">, </xsl:if></xsl:for-each></xsl:for-each></td>
            <td><xsl:value-of select="arm:Documentation/odm:Description/odm:TranslatedText"/>
              <xsl:for-each select="arm:Documentation/def:DocumentRef"><br/><a href="{key('leaf', @leafID)/@xlink:href}"><xsl:value-of select="key('leaf', @leafID)/def:title"/></a></xsl:for-each></td>
            <td><code><xsl:value-of select="arm:ProgrammingCode/arm:Code"/></code> (<xsl:value-of select="arm:ProgrammingCode/@Context"/>)</td>
          </tr>
        </xsl:for-each>
      </table>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="codelists">
    <h2>Controlled terminology</h2>
    <xsl:for-each select="$mdv/odm:CodeList">
      <h3 id="{@OID}"><xsl:value-of select="@Name"/>
        <xsl:if test="odm:Alias"> (<xsl:value-of select="odm:Alias/@Name"/>)</xsl:if></h3>
      <table>
        <tr><th>Value</th><th>Decode</th><th>C-code</th><th>Sponsor extension</th></tr>
        <xsl:for-each select="odm:CodeListItem | odm:EnumeratedItem">
          <tr>
            <td><xsl:value-of select="@CodedValue"/></td>
            <td><xsl:value-of select="odm:Decode/odm:TranslatedText"/></td>
            <td><xsl:value-of select="odm:Alias/@Name"/></td>
            <td><xsl:value-of select="@def:ExtendedValue"/></td>
          </tr>
        </xsl:for-each>
      </table>
    </xsl:for-each>
  </xsl:template>

  <xsl:template name="methods">
    <h2>Methods</h2>
    <table>
      <tr><th>Method</th><th>Description</th></tr>
      <xsl:for-each select="$mdv/odm:MethodDef">
        <tr><td id="{@OID}"><xsl:value-of select="@Name"/></td><td><xsl:value-of select="odm:Description/odm:TranslatedText"/></td></tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template name="comments">
    <h2>Comments</h2>
    <table>
      <tr><th>Comment</th><th>Text</th></tr>
      <xsl:for-each select="$mdv/def:CommentDef">
        <tr><td id="{@OID}"><xsl:value-of select="@OID"/></td><td><xsl:value-of select="odm:Description/odm:TranslatedText"/></td></tr>
      </xsl:for-each>
    </table>
  </xsl:template>
</xsl:stylesheet>
